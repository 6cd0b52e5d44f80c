"""A stand-in for the Rasa core behind the real socket.io channel, without a model.

    python tests/fakes/echo_webchat.py PORT

Serves ``connectors.socketio_channel.KlartextSocketIOInput`` (with the widget's files) on
127.0.0.1:PORT and answers every message with its text, its sender id and a button – so the
browser test can check the web chat *without* sign-in (no ``KLARTEXT_WEBCHAT_SECRET``, as
with ``make run`` and no ``.env``) quickly, without a second Rasa server.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sanic import Sanic  # noqa: E402

from bot import config  # noqa: E402
from connectors.socketio_channel import KlartextSocketIOInput  # noqa: E402


def main() -> None:
    port = int(sys.argv[1])
    config._dotenv_loaded = True  # ignore a developer's .env
    os.environ["KLARTEXT_WEBCHAT_SECRET"] = ""
    os.environ["KLARTEXT_WEBCHAT_ORIGINS"] = "*"
    channel = KlartextSocketIOInput.from_credentials({})
    assert not channel.secret

    async def echo(message) -> None:
        await message.output_channel.send_text_with_buttons(
            message.sender_id,
            f"echo[{message.sender_id}]: {message.text}",
            [{"title": "Nochmal", "payload": "nochmal"}],
        )

    app = Sanic("klartext_echo_webchat")
    app.blueprint(channel.blueprint(echo), url_prefix="/webhooks/socketio")
    logging.basicConfig(level=logging.WARNING)
    app.run(host="127.0.0.1", port=port, access_log=False, workers=1, motd=False)


if __name__ == "__main__":
    main()
