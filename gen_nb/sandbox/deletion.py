"""Deleting content resources: a render needs two phases (428 with a plan and a confirm_token,
then the DELETE again with the token); anything else goes at once (200 or 204, no body).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from .errors import ApiError
from .workspace import Resource
from .world import World


def delete_resource(world: World, rid: int, token: str | None
                    ) -> tuple[int, dict[str, Any] | None]:
    """DELETE a content resource → (428, plan) | (200, None) | (204, None)."""
    res = world.resource(rid)
    if res.is_render:
        if not token:
            return 428, _plan(world, res)
        owner, expires = world.confirm_tokens.pop(token, (None, 0.0))
        if owner != rid or expires <= time.time():
            raise ApiError(422, "confirm_token is invalid, expired or already used; "
                           "send the DELETE again without it to get a new one",
                           "validation_error")
    res.deleted = True
    world.blobs.delete(res.path)
    if res.thumb_path:
        world.blobs.delete(res.thumb_path)
    world.deletes += 1
    status = world.delete_status or (204 if world.deletes % 2 else 200)
    return status, None


def _plan(world: World, res: Resource) -> dict[str, Any]:
    """The 428 body: what the delete would destroy, and the token that confirms it."""
    token = f"tok_{secrets.token_hex(8)}"
    world.confirm_tokens[token] = (res.id, time.time() + world.confirm_ttl)
    url = world.url(res.path)
    posts = sum(1 for p in world.posts.values() if url in p.media_urls
                and any(s.state == "accepted" for s in p.states))
    destroy = {"content_resources": 1, "renders": 1}
    if posts:
        destroy["scheduled_posts"] = posts
    return {"would_destroy": destroy, "confirm_token": token}
