"""``flask --app bot chat``: a terminal that plays WeChat against the webhook."""

from __future__ import annotations

import shlex

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from bot.simulator import Answer, Transport, WeChatSimulator

HELP = """可用命令：
  直接输入文字        发送文字消息
  /voice 文字         发送语音消息（文字作为微信的语音识别结果）
  /image              发送一张图片
  /subscribe [场景]   关注公众号（可带二维码场景，如 union:BZ-BC-001）
  /unsubscribe        取消关注
  /scan 场景          已关注用户扫描带参数二维码
  /click 菜单KEY      点击菜单（如 MENU_HELP）
  /help               显示本帮助
  /quit               退出"""


def _http_transport(url: str) -> Transport:
    def send(query: str, body: bytes) -> tuple[int, str]:
        resp = requests.post(f"{url}?{query}", data=body, headers={"Content-Type": "text/xml"}, timeout=10)
        return resp.status_code, resp.text

    return send


def _local_transport() -> Transport:
    client = current_app.test_client()

    def send(query: str, body: bytes) -> tuple[int, str]:
        resp = client.post(f"/wechat?{query}", data=body, content_type="text/xml")
        return resp.status_code, resp.get_data(as_text=True)

    return send


def dispatch_line(sim: WeChatSimulator, openid: str, line: str) -> Answer | None:
    """Send what one typed line asks for; None for a line that sends nothing."""
    if not line.startswith("/"):
        return sim.text(openid, line)
    parts = shlex.split(line)
    cmd, args = parts[0].lower(), parts[1:]
    if cmd == "/voice":
        return sim.voice(openid, " ".join(args))
    if cmd == "/image":
        return sim.image(openid)
    if cmd == "/subscribe":
        return sim.event(openid, "subscribe", f"qrscene_{args[0]}" if args else None)
    if cmd == "/unsubscribe":
        return sim.event(openid, "unsubscribe")
    if cmd == "/scan" and args:
        return sim.event(openid, "SCAN", args[0])
    if cmd == "/click" and args:
        return sim.event(openid, "CLICK", args[0])
    return None


@click.command("chat", help="在终端里模拟微信用户与公众号对话。")
@click.option("--openid", default="demo-worker", show_default=True, help="模拟用户的 openid")
@click.option("--url", default=None, help="运行中服务的 /wechat 地址；不填则在本进程内处理")
@with_appcontext
def chat(openid: str, url: str | None) -> None:
    rt: Runtime = current_app.extensions["ghpp"]
    settings = rt.settings
    transport = _http_transport(url) if url else _local_transport()
    sim = WeChatSimulator(settings.wechat_token, settings.wechat_appid, transport, settings.wechat_aes_key)
    mode = "安全模式（加密）" if settings.wechat_aes_key else "明文模式"
    click.echo(f"模拟微信用户 {openid}，{mode}，目标：{url or '本进程'}。输入 /help 查看命令。")
    while True:
        try:
            line = input("我> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/help":
            click.echo(HELP)
            continue
        try:
            answer = dispatch_line(sim, openid, line)
        except requests.RequestException as exc:
            click.echo(f"（无法连接服务：{exc}）")
            continue
        if answer is None:
            click.echo("（未知命令，输入 /help 查看）")
        elif answer.status != 200:
            click.echo(f"（服务返回 HTTP {answer.status}）")
        else:
            click.echo(f"公众号> {answer.text}" if answer.text else "（公众号未回复）")
    wait = getattr(rt.queue, "wait", None)
    if callable(wait):
        wait(timeout_s=10)


commands = [chat]
