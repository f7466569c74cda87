"""Seed the demo network from the bundled CSV files (see SOURCES.md beside them). Idempotent."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, Site, Target
from datas_core.schemas.campaigns import CampaignCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.services import campaigns, sites
from datas_core.services.target_import import import_targets_csv


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    description: str
    redundancy: str
    priority_boost: float
    target_types: tuple[str, ...]
    classifications: tuple[str, ...] = ()


DEMO_CAMPAIGNS = (
    DemoCampaign(
        "Exoplanet transit follow-up",
        "Transit timing of known hot Jupiters; several sites at once to cover full transits.",
        "simultaneous",
        1.5,
        ("exoplanet_transit",),
    ),
    DemoCampaign(
        "Eclipsing binary minima",
        "Times of minimum of bright eclipsing binaries for O-C diagrams.",
        "diverse",
        1.2,
        ("variable_star",),
        ("EA", "EB", "EW"),
    ),
    DemoCampaign(
        "Long-period variable monitoring",
        "Miras and semiregulars, one point every few nights from as many longitudes as possible.",
        "diverse",
        1.0,
        ("variable_star",),
        ("M", "SR", "SRA", "SRB", "SRC", "SRD", "LB", "Mira"),
    ),
)


@dataclass
class SeedReport:
    sites_added: int = 0
    targets_added: int = 0
    campaigns_added: int = 0
    campaign_members_added: int = 0


def _demo_text(name: str) -> str:
    return (resources.files("datas_core.demo") / name).read_text(encoding="utf-8")


def _main_class(classification: str | None) -> str:
    """GCVS types like 'EA/SD' or 'EA+SRD': the leading type decides the campaign."""
    return re.split(r"[/+:(]", classification or "", maxsplit=1)[0]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def demo_site_ids() -> list[str]:
    """The site_ids of the bundled demo network (sites.csv)."""
    return [row["site_id"] for row in csv.DictReader(io.StringIO(_demo_text("sites.csv")))]


def seed_demo(session: Session) -> SeedReport:
    report = SeedReport()
    known_sites = set(session.scalars(select(Site.site_id)))
    for row in csv.DictReader(_demo_text("sites.csv").splitlines()):
        if row["site_id"] in known_sites:
            continue
        site = SiteCreate.model_validate(
            {
                **{k: v for k, v in row.items() if v != ""},
                "filters": _split(row.get("filters", "")),
            }
        )
        sites.create_site(session, site)
        report.sites_added += 1

    known_names = set(session.scalars(select(Target.name)))
    reader = csv.DictReader(_demo_text("targets.csv").splitlines())
    missing = [row for row in reader if row["name"] not in known_names]
    if missing:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        writer.writerows(missing)
        result = import_targets_csv(session, buffer.getvalue(), skip_bad_rows=False)
        if result.errors:
            raise RuntimeError(f"bundled demo targets are invalid: {result.errors[:3]}")
        report.targets_added = result.imported

    for spec in DEMO_CAMPAIGNS:
        campaign = session.scalar(select(Campaign).where(Campaign.name == spec.name))
        if campaign is None:
            campaign = campaigns.create_campaign(
                session,
                CampaignCreate(
                    name=spec.name,
                    description=spec.description,
                    redundancy=spec.redundancy,
                    priority_boost=spec.priority_boost,
                ),
            )
            report.campaigns_added += 1
        rows = session.execute(
            select(Target.target_id, Target.classification).where(
                Target.target_type.in_(spec.target_types)
            )
        )
        ids = [
            tid
            for tid, cls in rows
            if _main_class(cls) in spec.classifications or not spec.classifications
        ]
        if ids:
            report.campaign_members_added += campaigns.add_targets(
                session, campaign.campaign_id, ids
            )
    session.flush()
    return report
