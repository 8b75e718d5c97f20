"""Cache invalidation only (no business logic): a changed membership must change the user's scope at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.access import memberships_cache_key
from core.authentication import forget_cached_tokens
from core.cache import cache_delete
from publics.models import Membership


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="publics.membership_scope_cache")
def forget_cached_memberships(sender, instance: Membership, **kwargs) -> None:
    cache_delete(memberships_cache_key(instance.user_id))
    forget_cached_tokens(instance.user_id)  # a token's cached entry holds the memberships too
