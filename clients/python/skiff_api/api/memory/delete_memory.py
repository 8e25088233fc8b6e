from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.delete_memory_response_200 import DeleteMemoryResponse200
from ...types import Response


def _get_kwargs(
    memory_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/memory/memory/{memory_id}".format(
            memory_id=quote(str(memory_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AutoMemErrorBody | DeleteMemoryResponse200 | None:
    if response.status_code == 200:
        response_200 = DeleteMemoryResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = AutoMemErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AutoMemErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = AutoMemErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = AutoMemErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 423:
        response_423 = AutoMemErrorBody.from_dict(response.json())

        return response_423

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AutoMemErrorBody | DeleteMemoryResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    memory_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[AutoMemErrorBody | DeleteMemoryResponse200]:
    """Delete a memory with its associations.

    Args:
        memory_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | DeleteMemoryResponse200]
    """

    kwargs = _get_kwargs(
        memory_id=memory_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    memory_id: str,
    *,
    client: AuthenticatedClient,
) -> AutoMemErrorBody | DeleteMemoryResponse200 | None:
    """Delete a memory with its associations.

    Args:
        memory_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | DeleteMemoryResponse200
    """

    return sync_detailed(
        memory_id=memory_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    memory_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[AutoMemErrorBody | DeleteMemoryResponse200]:
    """Delete a memory with its associations.

    Args:
        memory_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | DeleteMemoryResponse200]
    """

    kwargs = _get_kwargs(
        memory_id=memory_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    memory_id: str,
    *,
    client: AuthenticatedClient,
) -> AutoMemErrorBody | DeleteMemoryResponse200 | None:
    """Delete a memory with its associations.

    Args:
        memory_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | DeleteMemoryResponse200
    """

    return (
        await asyncio_detailed(
            memory_id=memory_id,
            client=client,
        )
    ).parsed
