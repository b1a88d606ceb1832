"""Fill a database with 10,000 activities and 300 groups (on top of the demo data), for the page benchmark.

    DATABASE_URL=sqlite:///tmp/bench/scale.db python bench/seed_scale.py            # or --database-url URL
    python bench/seed_scale.py --database-url sqlite:///tmp/bench/scale.db --activities 10000 --groups 300

Migrates, loads the demo workspace and users (idempotent), then bulk-inserts groups (three levels), activities
(every status, owner and visibility, spread over a year), one version each and some sub-activity links, with
SQLAlchemy Core `insert()` in one transaction (a few seconds). Refuses to add a second batch: the name prefix
marks the rows it made.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "Scale"
WORDS = [
    "coupon", "welcome", "win-back", "birthday", "flash sale", "reminder", "survey", "points", "VIP", "cart",
    "restock", "newsletter", "referral", "upsell", "loyalty", "holiday", "weekend", "payday", "launch", "renewal",
]


def _groups(count: int) -> list[tuple[str, int]]:
    """(name, depth) in creation order: top-level regions, their teams, the teams' squads."""
    tops = max(1, -(-count // 13))  # 13 groups per region: itself, 4 teams, 8 squads
    out: list[tuple[str, int]] = []
    for r in range(1, tops + 1):
        out.append((f"{PREFIX} region {r:02d}", 1))
        for t in range(1, 5):
            out.append((f"Team {r:02d}.{t}", 2))
            for s in range(1, 3):
                out.append((f"Squad {r:02d}.{t}.{s}", 3))
    return out[:count]


def seed(database_url: str, activities: int, groups: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import func, insert, select

    from engine import clock
    from engine.db import write_session
    from engine.demo import WORKSPACE, demo_flow
    from engine.demo import main as load_demo
    from engine.migrate import upgrade_to_head
    from engine.models import (
        Activity,
        ActivityCampaignLink,
        ActivityGroup,
        ActivityVersion,
        MarketingCampaign,
        User,
        Workspace,
    )
    from engine.status import ActivityStatus, VersionState

    upgrade_to_head()
    load_demo()
    rng = random.Random(2026)
    started = time.perf_counter()
    with write_session() as session:
        ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).scalar_one()
        if session.exec(select(func.count()).select_from(ActivityGroup).where(
                ActivityGroup.name.like(f"{PREFIX} region%"))).scalar_one():
            print("scale data already present: nothing to do")
            return
        users = [u for u in session.exec(select(User).where(User.workspace_id == ws.id)).scalars()
                 if u.role != "manager"]
        subs = [c.id for c in session.exec(select(MarketingCampaign).where(
            MarketingCampaign.workspace_id == ws.id, MarketingCampaign.parent_id.is_not(None))).scalars()]

        # groups, level by level (children need their parent's id)
        group_ids: list[int] = []
        parents: dict[int, int | None] = {0: None}
        position: dict[int | None, int] = {}
        for name, depth in _groups(groups):
            parent = parents.get(depth - 1)
            position[parent] = position.get(parent, 100) + 1
            gid = session.execute(insert(ActivityGroup.__table__).values(
                workspace_id=ws.id, parent_id=parent, name=name, position=position[parent],
                created_at=clock.now()).returning(ActivityGroup.__table__.c.id)).scalar_one()
            parents[depth] = gid
            group_ids.append(gid)

        # activities, with explicit ids so versions and links can point at them
        first_id = (session.exec(select(func.max(Activity.id))).scalar_one() or 0) + 1
        first_version = (session.exec(select(func.max(ActivityVersion.id))).scalar_one() or 0) + 1
        now = clock.now()
        statuses = ([ActivityStatus.DRAFT] * 25 + [ActivityStatus.NOT_STARTED] * 10 + [ActivityStatus.STOPPED] * 20
                    + [ActivityStatus.COMPLETED] * 30 + [ActivityStatus.ABNORMAL_END] * 14
                    + [ActivityStatus.IN_PROGRESS] * 1)
        rows, versions, links = [], [], []
        for i in range(activities):
            aid, vid = first_id + i, first_version + i
            status = rng.choice(statuses)
            created = now - timedelta(days=rng.uniform(1, 365))
            owner = rng.choice(users)
            published = status != ActivityStatus.DRAFT
            rows.append({
                "id": aid, "workspace_id": ws.id, "name": f"{PREFIX} {rng.choice(WORDS)} #{i + 1:05d}",
                "description": f"Generated for the page benchmark ({status.label})", "owner_id": owner.id,
                "is_public": rng.random() < 0.7, "group_id": rng.choice(group_ids) if rng.random() < 0.85 else None,
                "status": status.value, "schedule": "once", "schedule_every": 1, "runs_used": 1 if published else 0,
                "current_version_id": vid, "live_version_id": vid if published else None,
                "created_at": created, "updated_at": created + (now - created) * rng.random(),
                "published_at": created if published else None,
                "start_time": now + timedelta(days=3) if status == ActivityStatus.NOT_STARTED else None,
            })
            versions.append({
                "id": vid, "activity_id": aid, "number": 1, "author_id": owner.id, "flow": demo_flow(i % 3),
                "state": (VersionState.PUBLISHED if published else VersionState.DRAFT).value, "created_at": created,
                "published_at": created if published else None,
            })
            for cid in rng.sample(subs, k=rng.choice([0, 0, 1, 2])) if subs else []:
                links.append({"activity_id": aid, "campaign_id": cid})
        session.execute(insert(Activity.__table__), rows)
        session.execute(insert(ActivityVersion.__table__), versions)
        if links:
            session.execute(insert(ActivityCampaignLink.__table__), links)
    print(f"inserted {len(group_ids)} groups, {activities} activities, {len(versions)} versions and {len(links)} "
          f"sub-activity links in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""),
                        help="where to write (default: $DATABASE_URL)")
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=300)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    seed(args.database_url, args.activities, args.groups)


if __name__ == "__main__":
    main()
