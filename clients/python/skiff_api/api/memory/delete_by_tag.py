from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.delete_by_tag_response_200 import DeleteByTagResponse200
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response


def _get_kwargs(
    *,
    tags: list[str],
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_tags = tags

    params["tags"] = json_tags

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/memory/memory/by-tag",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = DeleteByTagResponse200.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if response.status_code == 423:
        response_423 = AutoMemErrorBody.from_dict(response.json())

        return response_423

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    tags: list[str],
) -> Response[AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails]:
    """Delete every memory with any of the tags.

    Args:
        tags (list[str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails]
    """

    kwargs = _get_kwargs(
        tags=tags,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    tags: list[str],
) -> AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails | None:
    """Delete every memory with any of the tags.

    Args:
        tags (list[str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails
    """

    return sync_detailed(
        client=client,
        tags=tags,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    tags: list[str],
) -> Response[AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails]:
    """Delete every memory with any of the tags.

    Args:
        tags (list[str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails]
    """

    kwargs = _get_kwargs(
        tags=tags,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    tags: list[str],
) -> AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails | None:
    """Delete every memory with any of the tags.

    Args:
        tags (list[str]):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | DeleteByTagResponse200 | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            tags=tags,
        )
    ).parsed
