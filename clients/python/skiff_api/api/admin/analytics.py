from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.figures import Figures
from ...models.problem_details import ProblemDetails
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    fresh: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["fresh"] = fresh

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/admin/analytics",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Figures | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = Figures.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

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
) -> Response[Figures | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    fresh: bool | Unset = UNSET,
) -> Response[Figures | ProblemDetails]:
    """The business: MRR and ARR in minor units of `currency`, subscription counts,
    churn and conversion as fractions, seats. The figures the scheduler stored
    last (at most a few minutes old; `as_of` says when), or computed now with
    `fresh=true`.

    Args:
        fresh (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Figures | ProblemDetails]
    """

    kwargs = _get_kwargs(
        fresh=fresh,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    fresh: bool | Unset = UNSET,
) -> Figures | ProblemDetails | None:
    """The business: MRR and ARR in minor units of `currency`, subscription counts,
    churn and conversion as fractions, seats. The figures the scheduler stored
    last (at most a few minutes old; `as_of` says when), or computed now with
    `fresh=true`.

    Args:
        fresh (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Figures | ProblemDetails
    """

    return sync_detailed(
        client=client,
        fresh=fresh,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    fresh: bool | Unset = UNSET,
) -> Response[Figures | ProblemDetails]:
    """The business: MRR and ARR in minor units of `currency`, subscription counts,
    churn and conversion as fractions, seats. The figures the scheduler stored
    last (at most a few minutes old; `as_of` says when), or computed now with
    `fresh=true`.

    Args:
        fresh (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Figures | ProblemDetails]
    """

    kwargs = _get_kwargs(
        fresh=fresh,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    fresh: bool | Unset = UNSET,
) -> Figures | ProblemDetails | None:
    """The business: MRR and ARR in minor units of `currency`, subscription counts,
    churn and conversion as fractions, seats. The figures the scheduler stored
    last (at most a few minutes old; `as_of` says when), or computed now with
    `fresh=true`.

    Args:
        fresh (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Figures | ProblemDetails
    """

    return (
        await asyncio_detailed(
            client=client,
            fresh=fresh,
        )
    ).parsed
