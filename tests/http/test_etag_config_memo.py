"""ETags hash each collection's config; ConditionalMiddleware serialises a config once per config object and
forgets it with the object (a reloaded or removed collection), so the table does not grow without bound."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from cubeserver.config import load_config
from cubeserver.http.conditional import ConditionalMiddleware


def test_config_json_once_and_forgotten_with_the_config():
    middleware = ConditionalMiddleware(None, SimpleNamespace(config=load_config(None)))
    config = next(iter(load_config(None).collections.values()))
    text = middleware._config_text(config)
    assert text == config.model_dump_json() and middleware._config_text(config) is text
    assert len(middleware._config_json) == 1
    del config
    gc.collect()
    assert not middleware._config_json
