"""The proxy's own MCP server, on the SDK's low-level `Server`.

Lesson 01 used `MCPServer`, which builds tools from Python functions. A proxy
has no functions: its tools are other servers' tools, known only at run time,
with schemas it must pass on exactly as written. The low-level `Server` is the
layer for that: one `on_list_tools` handler answers with whatever the backends
have now, one `on_call_tool` handler routes every call by name.

Each handler asks the proxy for the view of the caller whose request it is
handling (view.py): the gate (gate.py) has set who that is, and the view
knows what they may see and where each of their names leads.
"""

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    CompleteRequestParams,
    CompleteResult,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
    PromptReference,
    ReadResourceRequestParams,
    ReadResourceResult,
)

from .approval import needs_approval, refusal
from .backends import tool_error
from .proxy import Proxy
from .view import View, admission


def paginate(
    items: Sequence[Any], key: str, params: PaginatedRequestParams | None, size: int | None
) -> tuple[list[Any], str | None]:
    """One page of `items` (sorted by `key`), and the cursor to the next one.

    The cursor is the last name served, base64-encoded so clients treat it as
    opaque: the next page starts after it, even if the catalog changed between
    the two requests (an offset would skip or repeat items then).
    """
    ordered = sorted(items, key=lambda item: getattr(item, key))
    cursor = params.cursor if params else None
    if cursor:
        try:
            after = base64.urlsafe_b64decode(cursor.encode()).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise MCPError(INVALID_PARAMS, "Invalid cursor") from None
        ordered = [item for item in ordered if getattr(item, key) > after]
    if size is None or len(ordered) <= size:
        return ordered, None
    page = ordered[:size]
    return page, base64.urlsafe_b64encode(getattr(page[-1], key).encode()).decode()


class ProxyServer(Server):
    """A `Server` that tells handshake-era clients its lists can change.

    On 2026-07-28 the SDK derives `listChanged` from `subscriptions/listen` being
    served; on a handshake the flags come from `NotificationOptions`, all off by
    default, and a client that reads them would never re-list after a change.
    """

    def create_initialization_options(self, notification_options: Any = None, *args: Any, **kwargs: Any) -> Any:
        everything = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        return super().create_initialization_options(notification_options or everything, *args, **kwargs)


def create_server(proxy: Proxy) -> Server:
    def view() -> View:
        """What the caller of the request being handled sees (the gate, gate.py, set what they are admitted to)."""
        return proxy.view(admission.get())

    def page_size() -> int | None:
        return proxy.settings.page_size

    async def list_tools(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListToolsResult:
        page, next_cursor = paginate(view().tools(), "name", params, page_size())
        return ListToolsResult(tools=page, next_cursor=next_cursor)

    async def call_tool(ctx: ServerRequestContext, params: CallToolRequestParams) -> CallToolResult:
        seen = view()
        route = seen.tool(params.name)
        if route is None:
            return tool_error(seen.why_not(params.name))
        backend = proxy.settings.backends.get(route.backend.name)
        if needs_approval(backend, route.name) and (why := await refusal(ctx, params.name, params.arguments)):
            return tool_error(why)  # the caller's user did not approve it, or could not be asked (approval.py)
        return await route.backend.call_tool(ctx, route.name, params.arguments)

    async def list_prompts(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListPromptsResult:
        page, next_cursor = paginate(view().prompts(), "name", params, page_size())
        return ListPromptsResult(prompts=page, next_cursor=next_cursor)

    async def get_prompt(ctx: ServerRequestContext, params: GetPromptRequestParams) -> GetPromptResult:
        route = view().prompt(params.name)
        if route is None:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {params.name}")
        return await route.backend.request(lambda client: client.get_prompt(route.name, params.arguments))

    async def list_resources(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListResourcesResult:
        page, next_cursor = paginate(view().resources(), "uri", params, page_size())
        return ListResourcesResult(resources=page, next_cursor=next_cursor)

    async def list_templates(
        ctx: ServerRequestContext, params: PaginatedRequestParams | None
    ) -> ListResourceTemplatesResult:
        page, next_cursor = paginate(view().templates(), "uri_template", params, page_size())
        return ListResourceTemplatesResult(resource_templates=page, next_cursor=next_cursor)

    async def read_resource(ctx: ServerRequestContext, params: ReadResourceRequestParams) -> ReadResourceResult:
        seen = view()
        found = seen.resource(params.uri)
        if found is None:
            raise MCPError(INVALID_PARAMS, f"Unknown resource: {params.uri}")
        backend, uri = found
        result: ReadResourceResult = await backend.request(lambda client: client.read_resource(uri))
        # The contents name their URI: give it back as the caller knows it.
        contents = [c.model_copy(update={"uri": seen.shown_uri(backend, c.uri)}) for c in result.contents]
        return result.model_copy(update={"contents": contents})

    async def complete(ctx: ServerRequestContext, params: CompleteRequestParams) -> CompleteResult:
        seen = view()
        ref = params.ref
        if isinstance(ref, PromptReference):
            route = seen.prompt(ref.name)
            if route is None:
                raise MCPError(INVALID_PARAMS, f"Unknown prompt: {ref.name}")
            backend, ref = route.backend, ref.model_copy(update={"name": route.name})
        else:
            found = seen.resource(ref.uri)
            if found is None:
                raise MCPError(INVALID_PARAMS, f"Unknown resource template: {ref.uri}")
            backend, ref = found[0], ref.model_copy(update={"uri": found[1]})
        arguments = params.context.arguments if params.context else None
        argument = {"name": params.argument.name, "value": params.argument.value}
        return await backend.request(lambda client: client.complete(ref, argument, arguments))

    async def remember_session(ctx: ServerRequestContext, call_next: CallNext) -> HandlerResult:
        proxy.remember(ctx)
        return await call_next(ctx)

    separator = proxy.settings.separator
    server = ProxyServer(
        proxy.settings.name,
        version=proxy.settings.version,
        instructions=(
            "An MCP proxy: the tools of several MCP servers behind one endpoint. "
            f"Each name is <server>{separator}<tool>, e.g. the tool "
            f"'echo' of the server 'basic' is basic{separator}echo."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_completion=complete,
        # 2026-07-28 clients hear of list changes on a subscriptions/listen stream.
        on_subscriptions_listen=ListenHandler(proxy.bus),
    )
    server.middleware.append(remember_session)
    return server
