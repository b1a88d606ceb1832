"""The group tree's events that change which activities the list shows: select a group, rename, delete, drag
a group. Each runs GroupTreeState's event, then refreshes ActivitiesState when the tree says the list must
follow. A module above both, so the tree (which the list reloads after moves) never imports the list."""

from typing import Any

import reflex as rx

from marketing_app.states.activities import ActivitiesState
from marketing_app.states.groups import GroupTreeState
from marketing_app.states.service import events


class GroupListState(rx.State):
    async def _follow(self, tree: GroupTreeState, first: Any) -> list[Any]:
        if not tree._list_stale:
            return events(first)
        tree._list_stale = False
        listing = await self.get_state(ActivitiesState)
        return events(first, await listing.group_selected(tree.selected, tree.selection_label()))

    @rx.event
    async def select(self, key: str):
        tree = await self.get_state(GroupTreeState)
        return await self._follow(tree, await tree.select(key))

    @rx.event
    async def submit_rename(self, form: dict[str, str]):
        tree = await self.get_state(GroupTreeState)
        return await self._follow(tree, await tree.submit_rename(form))

    @rx.event
    async def confirm_delete(self):
        tree = await self.get_state(GroupTreeState)
        return await self._follow(tree, await tree.confirm_delete())

    @rx.event
    async def drop_into(self, target: int):
        tree = await self.get_state(GroupTreeState)
        return await self._follow(tree, await tree.drop_into(target))

    @rx.event
    async def drop_before(self, target: int):
        tree = await self.get_state(GroupTreeState)
        return await self._follow(tree, await tree.drop_before(target))
