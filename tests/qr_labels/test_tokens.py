import math
import string

import pytest

from qr_labels import label_url, looks_like_token, new_token

URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def test_tokens_are_unique_url_safe_and_carry_at_least_128_bits() -> None:
    tokens = [new_token() for _ in range(1000)]

    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert set(token) <= URL_SAFE
        assert len(token) * math.log2(64) >= 128
        assert looks_like_token(token)


def test_label_url_is_exactly_base_slash_s_slash_token() -> None:
    token = new_token()

    assert label_url("https://houqin.example.cn", token) == f"https://houqin.example.cn/s/{token}"
    assert label_url("https://houqin.example.cn/", token) == f"https://houqin.example.cn/s/{token}"
    assert label_url("https://example.cn/houqin//", token) == f"https://example.cn/houqin/s/{token}"


@pytest.mark.parametrize("base_url", ["houqin.example.cn", "/relative", "ftp://example.cn", ""])
def test_label_url_refuses_a_base_that_phones_would_not_open(base_url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        label_url(base_url, new_token())


def test_label_url_refuses_a_token_that_would_change_the_path() -> None:
    with pytest.raises(ValueError, match="token"):
        label_url("https://houqin.example.cn", "../admin/aaaaaaaaaaaaaaaaaaaaaaaa")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "short",
        "a" * 21,
        "a" * 65,
        "abcdefghijklmnopqrstuvwxyz/0123",
        "abcdefghijklmnopqrstuvwxyz 0123",
        "abcdefghijklmnopqrstuvwxyz+0123",
        "abcdefghijklmnopqrstuvwxyz=0123",
        "abcdefghijklmnopqrstuvwxyz0123\n",
        "灭火器灭火器灭火器灭火器灭火器灭火器灭火器灭火器",
        "' OR 1=1 --aaaaaaaaaaaaaaaaaaaa",
    ],
)
def test_looks_like_token_rejects_junk(value: str) -> None:
    assert not looks_like_token(value)


@pytest.mark.parametrize("value", ["a" * 22, "A-_z09" * 10 + "abcd", "a-new-token"])
def test_looks_like_token_accepts_token_shapes(value: str) -> None:
    # A token made now (made in the test, so that parallel runs collect the same tests).
    assert looks_like_token(new_token() if value == "a-new-token" else value)
