"""The load bench's reply check (bench/load/client.py): what it counts as an invalid reply."""

from __future__ import annotations

import random

from bench.load.client import MIX, Mix, Stats, check_reply
from tests.wechat_protocol import WeChatServer, aes_encrypt, message_xml, sha1_signature

TOKEN, APPID = "benchtoken123456", "wxbenchclient"


def reply(to: str, content: str) -> str:
    return message_xml({"FromUserName": "gh_bench", "MsgType": "text", "Content": content}, account=to)


def test_plain_replies_are_judged() -> None:
    wechat, stats = WeChatServer(TOKEN, APPID), Stats()
    assert check_reply(wechat, reply("u1", "已为您记录"), "u1", "gh_bench", stats)
    assert check_reply(wechat, "success", "u1", "gh_bench", stats)
    assert not check_reply(wechat, reply("u2", "已为您记录"), "u1", "gh_bench", stats)
    assert not check_reply(wechat, reply("u1", "抱歉，系统暂时繁忙，请稍后再试。"), "u1", "gh_bench", stats)
    assert not check_reply(wechat, "<xml><Content>", "u1", "gh_bench", stats)
    assert stats.success == 1
    assert stats.invalid == {"wrong ToUserName": 1, "busy": 1, "unparsable:ParseError": 1}


def test_encrypted_replies_are_opened_and_their_signature_checked() -> None:
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    wechat, stats = WeChatServer(TOKEN, APPID, key), Stats()
    encrypted = aes_encrypt(key, APPID, reply("u1", "好的"))
    good = sha1_signature(TOKEN, "1", "n", encrypted)
    envelope = (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature>{{sig}}</MsgSignature>"
        "<TimeStamp>1</TimeStamp><Nonce>n</Nonce></xml>"
    )
    assert check_reply(wechat, envelope.format(sig=good), "u1", "gh_bench", stats)
    assert not check_reply(wechat, envelope.format(sig="0" * 40), "u1", "gh_bench", stats)
    assert stats.invalid == {"unparsable:AssertionError": 1}


def test_the_mix_follows_its_weights() -> None:
    world = {"brands": ["工惠乐学", "查保促"], "brand_ids": [1, 2], "candidates": 2}
    mix = Mix(world, random.Random(1), "gh_bench", 0)
    kinds = [mix.next(f"f{i}")[0] for i in range(20_000)]
    for kind, weight in MIX.items():
        assert abs(kinds.count(kind) / len(kinds) * 100 - weight) < 1.5, kind
    assert sum(MIX.values()) == 100
