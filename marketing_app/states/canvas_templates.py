"""New from Template (/templates): the strategy templates and the workspace's reusable processes (the ones the
user may see: engine.services.processes) with a preview of their flow, then the creation dialog (name,
description, sub-activities, schedule, start / end, group). engine.services.activities.create_from_template
makes the private Draft with the template's preset flow, and the canvas opens on it with the template details
window; processes.create_from_process does the same with a process's flow and remembers the process. A
process's creator and admins rename and delete it here.
"""

from dataclasses import dataclass, field
from typing import Any

import reflex as rx

from engine.flow.templates import TEMPLATES, get_template
from engine.models.activity import DESCRIPTION_MAX, NAME_MAX, Schedule
from engine.services import groups as group_service
from engine.services.activities import create_from_template
from engine.services.campaigns import list_catalogue
from engine.services.processes import ProcessRow, create_from_process, delete_process, list_processes, rename_process
from marketing_app.routes import canvas_route
from marketing_app.states import canvas_model as model
from marketing_app.states.activity_form import ActivityForm
from marketing_app.states.campaigns import to_options
from marketing_app.states.groups import UNGROUPED, GroupOption, options
from marketing_app.states.service import run

__all__ = ["DESCRIPTION_MAX", "NAME_MAX", "ProcessCard", "TemplateCard", "TemplatesState"]


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


@dataclass
class ProcessCard:
    id: str = ""
    name: str = ""
    description: str = ""
    owner_name: str = ""
    source: str = ""  # "Spring sale · V3"
    visibility: str = ""  # "Public" / "Private"
    components: int = 0
    manage_why_not: str = ""  # "" = the user may rename and delete it
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def process_cards(rows: list[ProcessRow]) -> list[ProcessCard]:
    out = []
    for p in rows:
        nodes, edges = model.view(p.flow)
        out.append(ProcessCard(id=str(p.id), name=p.name, description=p.description, owner_name=p.owner_name,
                               source=p.source, visibility="Public" if p.is_public else "Private",
                               components=len(nodes), manage_why_not=p.manage_why_not, nodes=nodes, edges=edges))
    return out


class TemplatesState(ActivityForm, rx.State):
    templates: list[TemplateCard] = []
    processes: list[ProcessCard] = []
    key: str = ""
    process_id: str = ""  # the dialog creates from this process ("" = from the template `key`)
    template_name: str = ""
    group_options: list[GroupOption] = []

    # rename / delete a process
    rename_open: bool = False
    rename_id: str = ""
    rename_name: str = ""
    rename_description: str = ""
    rename_error: str = ""
    delete_open: bool = False
    delete_id: str = ""
    delete_name: str = ""

    @rx.event
    async def load(self):
        self.templates = cards()
        self.open = False
        out = await run(self, lambda s, u: (to_options(list_catalogue(session=s, actor=u)),
                                            options(group_service.list_tree(session=s, actor=u)),
                                            process_cards(list_processes(session=s, actor=u))))
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue, self.group_options, self.processes = out.value
        return None

    async def _reload_processes(self) -> None:
        out = await run(self, lambda s, u: process_cards(list_processes(session=s, actor=u)))
        if out.ok and out.value is not None:
            self.processes = out.value

    def _reset_form(self, name: str) -> None:
        self.name, self.description = name[:NAME_MAX], ""
        self.start = self.end = ""
        self.schedule, self.every = Schedule.ONCE.value, "1"  # each starts from "once", not the last pick
        self.group, self.error, self.campaign_ids = UNGROUPED, "", []
        self.open = True

    @rx.event
    async def use(self, key: str):
        template = get_template(key)
        if template is None:
            return rx.toast.error("Template not found.")
        await self._use_time_zone()
        self.key, self.process_id, self.template_name = template.key, "", template.name
        self._reset_form(template.name)
        return None

    @rx.event
    async def use_process(self, process_id: str):
        card = next((p for p in self.processes if p.id == process_id), None)
        if card is None:
            return rx.toast.error("Process not found.")
        await self._use_time_zone()
        self.key, self.process_id, self.template_name = "", card.id, card.name
        self._reset_form(card.name)
        return None

    @rx.event
    async def submit(self):
        data = self.form_input()
        if data is None:
            return
        key, process_id = self.key, int(self.process_id) if self.process_id.isdigit() else None
        self.saving = True
        yield
        if process_id is not None:
            out = await run(self, lambda s, u: create_from_process(session=s, actor=u, data=data,
                                                                   process_id=process_id).id, write=True)
        else:
            out = await run(self, lambda s, u: create_from_template(session=s, actor=u, data=data,
                                                                    template_key=key).id, write=True)
        self.saving = False
        if out.signed_out:
            yield out.problem()
            return
        if out.error:
            self.error = out.error
            return
        self.open = False
        yield rx.toast.success(f"Created “{data.name.strip()}” from the process: set any secret it needs."
                               if process_id is not None else
                               f"Created “{data.name.strip()}” from the template: configure its key components.")
        yield rx.redirect(canvas_route(out.value, mode="edit"))

    # ------------------------------------------------------------------------------- rename / delete

    @rx.event
    def open_rename(self, process_id: str):
        card = next((p for p in self.processes if p.id == process_id), None)
        if card is None:
            return None
        if card.manage_why_not:
            return rx.toast.error(card.manage_why_not)
        self.rename_id, self.rename_name, self.rename_description = card.id, card.name, card.description
        self.rename_error, self.rename_open = "", True
        return None

    @rx.event
    def set_rename_open(self, is_open: bool):
        self.rename_open = is_open

    @rx.event
    def set_rename_name(self, value: str):
        self.rename_name, self.rename_error = value, ""

    @rx.event
    def set_rename_description(self, value: str):
        self.rename_description, self.rename_error = value, ""

    @rx.event
    async def submit_rename(self):
        pid, name, description = int(self.rename_id), self.rename_name, self.rename_description
        out = await run(self, lambda s, u: rename_process(session=s, actor=u, process_id=pid, name=name,
                                                          description=description).name, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.rename_error = out.error
            return None
        self.rename_open = False
        await self._reload_processes()
        return rx.toast.success(f"Renamed to “{out.value}”.")

    @rx.event
    def ask_delete(self, process_id: str):
        card = next((p for p in self.processes if p.id == process_id), None)
        if card is None:
            return None
        if card.manage_why_not:
            return rx.toast.error(card.manage_why_not)
        self.delete_id, self.delete_name, self.delete_open = card.id, card.name, True
        return None

    @rx.event
    def set_delete_open(self, is_open: bool):
        self.delete_open = is_open

    @rx.event
    async def confirm_delete(self):
        pid, name = int(self.delete_id), self.delete_name
        out = await run(self, lambda s, u: delete_process(session=s, actor=u, process_id=pid), write=True)
        self.delete_open = False
        if not out.ok:
            return out.problem()
        await self._reload_processes()
        return rx.toast.success(f"Deleted the process “{name}”. Activities made from it keep their flows.")
