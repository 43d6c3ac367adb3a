"""DingTalk's custom robot (钉钉自定义机器人): an access token and a signing secret per group.

Every call is signed: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, in the
query with the timestamp in milliseconds. Posts go as markdown, their link a tap-able
"在后勤系统中打开" (channels/robot_markdown.py), and @-mention by mobile (the mobiles are also
written into the text, where DingTalk shows them); a piece whose markdown would not fit goes as
text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session, sessionmaker

from channels import lease_of
from channels.group_robot import Answer, RobotSender
from channels.robot_markdown import markdown_piece
from models.clock import Clock
from models.robot_groups import DINGTALK_ROBOT, OutgoingPost
from settings import Settings

CHANNEL = DINGTALK_ROBOT
# DingTalk documents no exact size for a text message; this keeps well inside what it takes.
TEXT_LIMIT_CHARS = 4000
# Room kept in the first piece for the "@138…" mentions written after its text.
MENTIONS_ROOM = 240
# The markdown title: what DingTalk shows in its list of chats and in the phone's notification.
TITLE_CHARS = 30
TOO_FAST = {130101, 410100}
REFUSED_SIGN = {310000}
ROBOT_GONE = {300001, 400102}


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature of a call, before URL-encoding."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def payload(post: OutgoingPost, piece: str, first: bool) -> dict[str, Any]:
    """Markdown with its title, the first piece @-mentioning the responsible people."""
    mentions = list(post.mentions) if first else []
    written = " ".join(f"@{m}" for m in mentions)[: MENTIONS_ROOM - 1]
    at = {"atMobiles": mentions, "isAtAll": False}
    # A hard line break in markdown: two spaces, then the new line.
    text = markdown_piece(piece, post.link, post.locale, line_break="  \n")
    text += "  \n" + written if mentions else ""
    if len(text) <= TEXT_LIMIT_CHARS:
        title = piece.split("\n", 1)[0][:TITLE_CHARS]
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}, "at": at}
    content = piece + ("\n" + written if mentions else "")
    return {"msgtype": "text", "text": {"content": content}, "at": at}


def answer(body: dict[str, Any]) -> Answer:
    code = int(body.get("errcode", -1))
    if code == 0:
        return Answer("ok")
    if code in TOO_FAST:
        return Answer("retry")
    message = str(body.get("errmsg", ""))[:200]
    if code in REFUSED_SIGN:
        return Answer(
            "fail",
            f"DingTalk {code}: the signing secret, keywords or IP list refuse it ({message})",
        )
    if code in ROBOT_GONE:
        return Answer(
            "fail", f"DingTalk {code}: the access token is wrong or the robot was stopped"
        )
    return Answer("fail", f"DingTalk {code}: {message}")


def sender(
    settings: Settings, factory: sessionmaker[Session], clock: Clock, **options: Any
) -> RobotSender:
    base = settings.dingtalk.base_url.rstrip("/")

    def url(post: OutgoingPost) -> str:
        timestamp = int(clock.now().timestamp() * 1000)
        query = {"access_token": post.address, "timestamp": str(timestamp)}
        if post.signing_secret:
            query["sign"] = sign(post.signing_secret, timestamp)
        return f"{base}/robot/send?{urlencode(query, quote_via=quote)}"

    options.setdefault("per_minute", settings.channels.robot_per_minute)
    options.setdefault("lease", lease_of(settings))
    return RobotSender(
        channel=CHANNEL,
        url=url,
        payload=payload,
        answer=answer,
        limit=TEXT_LIMIT_CHARS - MENTIONS_ROOM,
        measure=len,
        factory=factory,
        clock=clock,
        base_url=settings.server.base_url,
        **options,
    )
