from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.post_body import PostBody
from ...models.post_response_200 import PostResponse200
from ...models.post_response_400 import PostResponse400
from ...models.post_response_404 import PostResponse404
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: PostBody,
    mcp_session_id: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(mcp_session_id, Unset):
        headers["Mcp-Session-Id"] = mcp_session_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/mcp/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
    | None
):
    if response.status_code == 200:
        response_200 = PostResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = cast(Any, None)
        return response_202

    if response.status_code == 400:
        response_400 = PostResponse400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AutoMemErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = PostResponse404.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: PostBody,
    mcp_session_id: None | str | Unset = UNSET,
) -> Response[
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
]:
    """`POST /api/v1/mcp/`: one JSON-RPC message or a batch.

    Args:
        mcp_session_id (None | str | Unset):
        body (PostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AutoMemErrorBody | PostResponse200 | PostResponse400 | PostResponse404 | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
        mcp_session_id=mcp_session_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: PostBody,
    mcp_session_id: None | str | Unset = UNSET,
) -> (
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
    | None
):
    """`POST /api/v1/mcp/`: one JSON-RPC message or a batch.

    Args:
        mcp_session_id (None | str | Unset):
        body (PostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AutoMemErrorBody | PostResponse200 | PostResponse400 | PostResponse404 | ProblemDetails
    """

    return sync_detailed(
        client=client,
        body=body,
        mcp_session_id=mcp_session_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: PostBody,
    mcp_session_id: None | str | Unset = UNSET,
) -> Response[
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
]:
    """`POST /api/v1/mcp/`: one JSON-RPC message or a batch.

    Args:
        mcp_session_id (None | str | Unset):
        body (PostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | AutoMemErrorBody | PostResponse200 | PostResponse400 | PostResponse404 | ProblemDetails]
    """

    kwargs = _get_kwargs(
        body=body,
        mcp_session_id=mcp_session_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: PostBody,
    mcp_session_id: None | str | Unset = UNSET,
) -> (
    Any
    | AutoMemErrorBody
    | PostResponse200
    | PostResponse400
    | PostResponse404
    | ProblemDetails
    | None
):
    """`POST /api/v1/mcp/`: one JSON-RPC message or a batch.

    Args:
        mcp_session_id (None | str | Unset):
        body (PostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | AutoMemErrorBody | PostResponse200 | PostResponse400 | PostResponse404 | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            mcp_session_id=mcp_session_id,
        )
    ).parsed
