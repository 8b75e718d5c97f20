"""Loading the shipped regions file (publics/data/regions.csv); used by a migration and by tests."""

import csv
from pathlib import Path

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"


def read_regions() -> list[dict]:
    with REGIONS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {
            "code": row["code"],
            "okato": row["okato"],
            "name": row["name_ru"],
            "name_en": row["name_en"],
            "federal_district": row["federal_district"],
            "timezone": row["timezone"],
            # An empty population is unknown, never zero (regions.csv README).
            "population": int(row["population"]) if row["population"] else None,
            "population_year": int(row["population_year"]) if row["population_year"] else None,
        }
        for row in rows
    ]


def load_regions(region_model) -> int:
    """Insert or refresh all regions by code; returns how many the file holds. Safe to run again."""
    rows = read_regions()
    for row in rows:
        region_model.objects.update_or_create(code=row["code"], defaults=row)
    return len(rows)
