"""`/console`: the dashboard."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from registry.bodies.services import get_body
from registry.console.accounts import ConsoleAccount
from registry.console.feedback import dashboard_feedback
from registry.console.pages import page
from registry.console.reading import dashboard
from registry.dependencies import utc_now
from registry.search.query import LEVELS, STATUSES


class DashboardPage(Controller):
    path = "/"

    @get("/", name="console-dashboard")
    async def dashboard(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        state = request.app.state
        now = utc_now()
        data = await dashboard(
            account, read_path=state.console_read_path, engine=state.console_engine, now=now
        )
        return page(
            request,
            "dashboard.html",
            account=account,
            data=data,
            statuses=STATUSES,
            levels=LEVELS,
            feedback=await dashboard_feedback(account, now=now),
            # The heading names the body as people know it, not by its code.
            body=None if account.body_code is None else await get_body(account.body_code),
        )
