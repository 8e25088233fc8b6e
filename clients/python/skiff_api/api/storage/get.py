from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    download: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["download"] = download

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/storage/records/{id}".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ProblemDetails | list[int] | None:
    if response.status_code == 200:
        response_200 = cast(list[int], response.content)

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

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
) -> Response[Any | ProblemDetails | list[int]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    download: str | Unset = UNSET,
) -> Response[Any | ProblemDetails | list[int]]:
    """A record's bytes (`application/octet-stream`) with `X-Checksum` and `ETag`;
    `If-None-Match` with its checksum answers 304; `?download=url` answers a
    signed download URL instead.

    Args:
        id (str):
        download (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemDetails | list[int]]
    """

    kwargs = _get_kwargs(
        id=id,
        download=download,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    download: str | Unset = UNSET,
) -> Any | ProblemDetails | list[int] | None:
    """A record's bytes (`application/octet-stream`) with `X-Checksum` and `ETag`;
    `If-None-Match` with its checksum answers 304; `?download=url` answers a
    signed download URL instead.

    Args:
        id (str):
        download (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemDetails | list[int]
    """

    return sync_detailed(
        id=id,
        client=client,
        download=download,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    download: str | Unset = UNSET,
) -> Response[Any | ProblemDetails | list[int]]:
    """A record's bytes (`application/octet-stream`) with `X-Checksum` and `ETag`;
    `If-None-Match` with its checksum answers 304; `?download=url` answers a
    signed download URL instead.

    Args:
        id (str):
        download (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemDetails | list[int]]
    """

    kwargs = _get_kwargs(
        id=id,
        download=download,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    download: str | Unset = UNSET,
) -> Any | ProblemDetails | list[int] | None:
    """A record's bytes (`application/octet-stream`) with `X-Checksum` and `ETag`;
    `If-None-Match` with its checksum answers 304; `?download=url` answers a
    signed download URL instead.

    Args:
        id (str):
        download (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemDetails | list[int]
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            download=download,
        )
    ).parsed
