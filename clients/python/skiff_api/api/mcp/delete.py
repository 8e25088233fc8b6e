from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.delete_response_400 import DeleteResponse400
from ...models.delete_response_404 import DeleteResponse404
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    mcp_session_id: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(mcp_session_id, Unset):
        headers["Mcp-Session-Id"] = mcp_session_id

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/mcp/",
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404 | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 400:
        response_400 = DeleteResponse400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AutoMemErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = DeleteResponse404.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    mcp_session_id: None | str | Unset = UNSET,
) -> Response[Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404]:
    """`DELETE /api/v1/mcp/`: end the session.

    Args:
        mcp_session_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404]
    """

    kwargs = _get_kwargs(
        mcp_session_id=mcp_session_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    mcp_session_id: None | str | Unset = UNSET,
) -> Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404 | None:
    """`DELETE /api/v1/mcp/`: end the session.

    Args:
        mcp_session_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404
    """

    return sync_detailed(
        client=client,
        mcp_session_id=mcp_session_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    mcp_session_id: None | str | Unset = UNSET,
) -> Response[Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404]:
    """`DELETE /api/v1/mcp/`: end the session.

    Args:
        mcp_session_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404]
    """

    kwargs = _get_kwargs(
        mcp_session_id=mcp_session_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    mcp_session_id: None | str | Unset = UNSET,
) -> Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404 | None:
    """`DELETE /api/v1/mcp/`: end the session.

    Args:
        mcp_session_id (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AutoMemErrorBody | DeleteResponse400 | DeleteResponse404
    """

    return (
        await asyncio_detailed(
            client=client,
            mcp_session_id=mcp_session_id,
        )
    ).parsed
