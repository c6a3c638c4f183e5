"""Files hearth shares (an export of minutes) show on the page, and open only for people who
can read a conversation they were shared in."""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.emulator.testing import web_client
from tests.sandbox.conftest import PageClient

CONTENT = "# Minutes of \\#leads\n\n<script>alert(1)</script> stays text\n"


async def share_in_leads(client: PageClient) -> str:
    """hearth uploads a Markdown file to the private #leads; returns its file id."""
    response = await web_client(client.sandbox.emulator).files_upload_v2(
        channel=Seed.LEADS,
        content=CONTENT,
        filename="hearth-minutes-leads.md",
        title="Minutes of #leads",
        initial_comment="Asked for by <@U0ALICE>",
    )
    return str(response["file"]["id"])


async def open_file(client: PageClient, user: str, file_id: str) -> tuple[int, str, dict]:
    url = f"{client.sandbox.url}/api/file"
    async with client.session.get(url, params={"user": user, "id": file_id}) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_a_shared_file_shows_with_its_message(client: PageClient) -> None:
    file_id = await share_in_leads(client)

    state = await client.wait_for(Seed.ALICE, lambda s: s["conversations"][Seed.LEADS])
    (message,) = state["conversations"][Seed.LEADS]
    assert message["text"] == "Asked for by <@U0ALICE>"
    assert message["files"] == [
        {
            "id": file_id,
            "name": "hearth-minutes-leads.md",
            "title": "Minutes of #leads",
            "size": len(CONTENT.encode()),
        }
    ]


async def test_a_file_opens_as_plain_text_for_people_who_can_read_it(client: PageClient) -> None:
    file_id = await share_in_leads(client)

    status, text, headers = await open_file(client, Seed.ALICE, file_id)
    assert status == 200
    assert text == CONTENT
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == 'inline; filename="hearth-minutes-leads.md"'

    # Bob is not in the private #leads; nobody opens a file that doesn't exist.
    for user, wanted in ((Seed.BOB, file_id), (Seed.ALICE, "F0NOPE"), ("U0NOBODY", file_id)):
        status, text, _ = await open_file(client, user, wanted)
        assert status == 404
        assert "isn't shared in any conversation you can see" in text
