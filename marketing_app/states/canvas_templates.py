"""New from Template (/templates): the strategy templates with a preview of their flow, then the creation dialog
(name, description, sub-activities, start / end, group). engine.services.activities.create_from_template makes
the private Draft with the template's preset flow, and the canvas opens on it with the template details window.
"""

from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from engine.flow.templates import TEMPLATES, get_template
from engine.models.activity import DESCRIPTION_MAX, NAME_MAX, Schedule
from engine.services import groups as group_service
from engine.services.activities import create_from_template
from engine.services.campaigns import list_catalogue
from marketing_app.routes import canvas_route
from marketing_app.states import canvas_model as model
from marketing_app.states.activity_form import ActivityForm
from marketing_app.states.campaigns import to_options
from marketing_app.states.groups import UNGROUPED, GroupOption, options
from marketing_app.states.service import run

__all__ = ["DESCRIPTION_MAX", "NAME_MAX", "TemplateCard", "TemplatesState"]


@dataclass
class TemplateCard:
    key: str = ""
    name: str = ""
    description: str = ""
    components: int = 0
    key_components: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def cards() -> list[TemplateCard]:
    out = []
    for t in TEMPLATES:
        nodes, edges = model.view(t.flow)
        labels = model.node_labels(t.flow)
        out.append(TemplateCard(key=t.key, name=t.name, description=t.description, components=len(nodes),
                                key_components=[f"{labels.get(k.node_id, k.node_id)}: {k.hint}"
                                                for k in t.key_components],
                                nodes=nodes, edges=edges))
    return out


class TemplatesState(ActivityForm, rx.State):
    templates: list[TemplateCard] = []
    key: str = ""
    template_name: str = ""
    group_options: list[GroupOption] = []

    @rx.event
    async def load(self):
        self.templates = cards()
        self.open = False
        out = await run(self, lambda s, u: (to_options(list_catalogue(session=s, actor=u)),
                                            options(group_service.list_tree(session=s, actor=u))))
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue, self.group_options = out.value
        return None

    @rx.event
    async def use(self, key: str):
        template = get_template(key)
        if template is None:
            return rx.toast.error("Template not found.")
        await self._use_time_zone()
        self.key, self.template_name = template.key, template.name
        self.name, self.description = template.name[:NAME_MAX], ""
        self.start = self.end = ""
        self.schedule, self.every = Schedule.ONCE.value, "1"  # each template starts from "once", not the last pick
        self.group, self.error, self.campaign_ids = UNGROUPED, "", []
        self.open = True
        return None

    @rx.event
    async def submit(self):
        data = self.form_input()
        if data is None:
            return
        key = self.key
        self.saving = True
        yield
        out = await run(self, lambda s, u: create_from_template(session=s, actor=u, data=data, template_key=key).id,
                        write=True)
        self.saving = False
        if out.signed_out:
            yield out.problem()
            return
        if out.error:
            self.error = out.error
            return
        self.open = False
        yield rx.toast.success(f"Created “{data.name.strip()}” from the template: configure its key components.")
        yield rx.redirect(canvas_route(out.value, mode="edit"))
