"""Cache invalidation only (no business logic): a revoked token or a deactivated user is refused at once."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from core.authentication import forget_cached_tokens, token_cache_key
from core.cache import cache_delete


@receiver([post_save, post_delete], sender=Token, dispatch_uid="core.token_cache")
def forget_cached_token(sender, instance: Token, **kwargs) -> None:
    cache_delete(token_cache_key(instance.key))


@receiver([post_save, post_delete], sender=settings.AUTH_USER_MODEL, dispatch_uid="core.user_token_cache")
def forget_cached_tokens_of_user(sender, instance, **kwargs) -> None:
    forget_cached_tokens(instance.pk)
