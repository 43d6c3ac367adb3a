"""WeCom's group robot (企业微信群机器人): a webhook key per group.

A post that @-mentions people goes as text, since only text can @-mention by mobile; any
other goes as markdown, its link a tap-able "在后勤系统中打开" (channels/robot_markdown.py).
Text takes at most 2048 bytes of UTF-8, so a longer notice goes in pieces, each with the link;
markdown takes 4096, so a piece whose markdown would not fit goes as text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker

from channels import lease_of
from channels.group_robot import Answer, RobotSender
from channels.robot_markdown import markdown_piece
from models.clock import Clock
from models.robot_groups import WECOM_ROBOT, OutgoingPost
from settings import Settings

CHANNEL = WECOM_ROBOT
TEXT_LIMIT_BYTES = 2048
MARKDOWN_LIMIT_BYTES = 4096
TOO_FAST = {45009}
WRONG_KEY = {93000}


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def payload(post: OutgoingPost, piece: str, first: bool) -> dict[str, Any]:
    """Markdown, or text when it @-mentions people (the first piece mentions them all)."""
    if not post.mentions:
        content = markdown_piece(piece, post.link, post.locale)
        if utf8_bytes(content) <= MARKDOWN_LIMIT_BYTES:
            return {"msgtype": "markdown", "markdown": {"content": content}}
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
    options.setdefault("lease", lease_of(settings))
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
