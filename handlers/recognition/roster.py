"""The neutral roster for the recognition survey: the brands, in the respondent's area, of the open
campaigns that apply to the respondent.

Registered with ``handlers.measures.set_roster_provider``: every roster holds the brands whose
service area contains the respondent (S: all), restricted to candidates of open campaigns when
there are any, plus exactly one fictitious brand, in a random order per respondent
(docs/method/sampling.md §5).

Showing a brand only inside its service area is why a member's roster answer is *away* under the
amended home rule: the area is the target population. Only a cadre of the brand's own subtree
answers it as home (``loader.is_home``).
"""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from handlers.measures import FOIL_NAMES, RosterItem, brands_in_area
from handlers.recognition.campaign_scope import open_campaigns_for
from handlers.registry import Routes
from models import User, utcnow

routes = Routes()


def campaign_roster(session: Session, user: User, rng: random.Random) -> list[RosterItem]:
    candidates = {e.brand_id for c in open_campaigns_for(session, user, utcnow()) for e in c.entries}
    area = brands_in_area(session, user)
    chosen = [b for b in area if b.id in candidates] if candidates else area
    items = [RosterItem(b.id, b.name) for b in chosen]
    items.append(RosterItem(None, rng.choice(FOIL_NAMES)))
    rng.shuffle(items)
    return items


routes.roster(campaign_roster)
