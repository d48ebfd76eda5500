"""Piccolo's configuration module (PICCOLO_CONF=registry.piccolo_conf).

`DB` is rebound by `registry.db.use_engine`; the value here only serves
Piccolo's own command line (`piccolo migrations new registry --auto`).
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from registry.db import engine_from_url
from registry.settings import database_url_from_env

DB: Engine[Any] = engine_from_url(database_url_from_env(os.environ))

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])
