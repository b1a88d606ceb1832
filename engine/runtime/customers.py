"""Load a batch's customers (with their tags) in two queries."""

from collections import defaultdict

from sqlmodel import Session, col, select

from engine.components.base import CustomerView
from engine.models import Customer, CustomerTag


def load_views(session: Session, ids: list[int]) -> list[CustomerView]:
    if not ids:
        return []
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for cid, tag, value in session.exec(select(CustomerTag.customer_id, CustomerTag.tag, CustomerTag.value)
                                        .where(col(CustomerTag.customer_id).in_(ids))):
        tags[cid][tag] = value
    rows = session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
    by_id = {
        c.id: CustomerView(id=c.id, qaid=c.qaid, name=c.name, phone=c.phone, email=c.email,
                           wechat_openid=c.wechat_openid, push_token=c.push_token, timezone=c.timezone,
                           attributes=dict(c.attributes or {}), tags=tags.get(c.id, {}))
        for c in rows
    }
    return [by_id[i] for i in ids if i in by_id]
