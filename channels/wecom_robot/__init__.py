"""WeCom's group robot (企业微信群机器人): a webhook key per group, text with @-mentions by mobile.

Text is used rather than markdown because only text can @-mention by mobile; its content
takes at most 2048 bytes of UTF-8, so a longer notice goes in pieces, each with the link.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker

from channels.group_robot import Answer, RobotSender
from models.clock import Clock
from models.robot_groups import WECOM_ROBOT, OutgoingPost
from settings import Settings

CHANNEL = WECOM_ROBOT
TEXT_LIMIT_BYTES = 2048
TOO_FAST = {45009}
WRONG_KEY = {93000}


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def payload(post: OutgoingPost, piece: str, first: bool) -> dict[str, Any]:
    """A text message; the first piece @-mentions the responsible people."""
    text: dict[str, Any] = {"content": piece}
    if first and post.mentions:
        text["mentioned_mobile_list"] = list(post.mentions)
    return {"msgtype": "text", "text": text}


def answer(body: dict[str, Any]) -> Answer:
    code = int(body.get("errcode", -1))
    if code == 0:
        return Answer("ok")
    if code in TOO_FAST:
        return Answer("retry")
    message = str(body.get("errmsg", ""))[:200]
    if code in WRONG_KEY:
        return Answer(
            "fail",
            f"WeCom {code}: the webhook key is wrong or the robot was removed ({message})",
        )
    return Answer("fail", f"WeCom {code}: {message}")


def sender(
    settings: Settings, factory: sessionmaker[Session], clock: Clock, **options: Any
) -> RobotSender:
    base = settings.wecom.base_url.rstrip("/")
    options.setdefault("per_minute", settings.channels.robot_per_minute)
    options.setdefault("lease", timedelta(seconds=settings.channels.lease_seconds))
    return RobotSender(
        channel=CHANNEL,
        url=lambda post: f"{base}/cgi-bin/webhook/send?key={quote(post.address, safe='')}",
        payload=payload,
        answer=answer,
        limit=TEXT_LIMIT_BYTES,
        measure=utf8_bytes,
        factory=factory,
        clock=clock,
        base_url=settings.server.base_url,
        **options,
    )
