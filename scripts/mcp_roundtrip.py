"""An MCP round trip against Skiff's memory endpoint with the official Python SDK.

    mcp_roundtrip.py <endpoint URL> <credential>

Connects over Streamable HTTP with the credential as a bearer token, runs the
initialize handshake, lists the tools, stores a memory, recalls it, checks the
health, and prints what it saw as JSON. Any mismatch exits non-zero. Used by the
black-box test `tests/api/mcp.rs` (the test command installs the SDK, pinned, into
.tools/mcp-venv).
"""

import json
import sys

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

EXPECTED_TOOLS = {
    "store_memory",
    "recall_memory",
    "associate_memories",
    "update_memory",
    "delete_memory",
    "check_database_health",
}


def fail(why: str) -> None:
    print(json.dumps({"ok": False, "error": why}))
    sys.exit(1)


async def main(url: str, credential: str) -> None:
    headers = {"Authorization": f"Bearer {credential}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                names = {t.name for t in tools.tools}
                if names != EXPECTED_TOOLS:
                    fail(f"tools/list answered {sorted(names)}")
                schema = next(t for t in tools.tools if t.name == "store_memory").input_schema
                if "content" not in schema.get("properties", {}):
                    fail("store_memory's schema has no content property")

                stored = await session.call_tool(
                    "store_memory",
                    {
                        "content": "MCP clients reach Skiff's memory over Streamable HTTP",
                        "tags": ["mcp", "roundtrip"],
                        "importance": 0.8,
                    },
                )
                if stored.is_error:
                    fail(f"store_memory failed: {stored.content}")
                memory_id = stored.structured_content["memory_id"]

                recalled = await session.call_tool(
                    "recall_memory", {"query": "Streamable HTTP", "tags": ["mcp"], "limit": 3}
                )
                if recalled.is_error:
                    fail(f"recall_memory failed: {recalled.content}")
                found = [r["id"] for r in recalled.structured_content["results"]]
                if memory_id not in found:
                    fail(f"recall_memory did not find {memory_id}: {found}")

                health = await session.call_tool("check_database_health", {})
                bad = await session.call_tool("delete_memory", {"memory_id": "not-a-uuid"})

                print(
                    json.dumps(
                        {
                            "ok": True,
                            "protocol_version": init.protocol_version,
                            "server": init.server_info.name,
                            "tools": sorted(names),
                            "memory_id": memory_id,
                            "recalled": found,
                            "recall_text": recalled.content[0].text,
                            "health": health.structured_content,
                            "bad_delete_is_error": bad.is_error,
                            "bad_delete_text": bad.content[0].text,
                        }
                    )
                )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: mcp_roundtrip.py <endpoint URL> <credential>")
    anyio.run(main, sys.argv[1], sys.argv[2])
