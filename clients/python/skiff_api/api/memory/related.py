from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.problem_details import ProblemDetails
from ...models.related_response_200 import RelatedResponse200
from ...types import UNSET, Response, Unset


def _get_kwargs(
    memory_id: str,
    *,
    relationship_types: str | Unset = UNSET,
    max_depth: int | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["relationship_types"] = relationship_types

    params["max_depth"] = max_depth

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/memory/memories/{memory_id}/related".format(
            memory_id=quote(str(memory_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AutoMemErrorBody | ProblemDetails | RelatedResponse200 | None:
    if response.status_code == 200:
        response_200 = RelatedResponse200.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AutoMemErrorBody | ProblemDetails | RelatedResponse200]:
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
    relationship_types: str | Unset = UNSET,
    max_depth: int | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[AutoMemErrorBody | ProblemDetails | RelatedResponse200]:
    """Memories related to one, up to three hops away.

    Args:
        memory_id (str):
        relationship_types (str | Unset):
        max_depth (int | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | RelatedResponse200]
    """

    kwargs = _get_kwargs(
        memory_id=memory_id,
        relationship_types=relationship_types,
        max_depth=max_depth,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    memory_id: str,
    *,
    client: AuthenticatedClient,
    relationship_types: str | Unset = UNSET,
    max_depth: int | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> AutoMemErrorBody | ProblemDetails | RelatedResponse200 | None:
    """Memories related to one, up to three hops away.

    Args:
        memory_id (str):
        relationship_types (str | Unset):
        max_depth (int | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | RelatedResponse200
    """

    return sync_detailed(
        memory_id=memory_id,
        client=client,
        relationship_types=relationship_types,
        max_depth=max_depth,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    memory_id: str,
    *,
    client: AuthenticatedClient,
    relationship_types: str | Unset = UNSET,
    max_depth: int | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> Response[AutoMemErrorBody | ProblemDetails | RelatedResponse200]:
    """Memories related to one, up to three hops away.

    Args:
        memory_id (str):
        relationship_types (str | Unset):
        max_depth (int | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | RelatedResponse200]
    """

    kwargs = _get_kwargs(
        memory_id=memory_id,
        relationship_types=relationship_types,
        max_depth=max_depth,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    memory_id: str,
    *,
    client: AuthenticatedClient,
    relationship_types: str | Unset = UNSET,
    max_depth: int | Unset = UNSET,
    limit: int | Unset = UNSET,
) -> AutoMemErrorBody | ProblemDetails | RelatedResponse200 | None:
    """Memories related to one, up to three hops away.

    Args:
        memory_id (str):
        relationship_types (str | Unset):
        max_depth (int | Unset):
        limit (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | RelatedResponse200
    """

    return (
        await asyncio_detailed(
            memory_id=memory_id,
            client=client,
            relationship_types=relationship_types,
            max_depth=max_depth,
            limit=limit,
        )
    ).parsed
