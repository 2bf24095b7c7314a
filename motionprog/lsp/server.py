"""``motionprog lsp``: the Language Server Protocol over stdio (pygls).

Every open document is read into an :class:`Outline` when it opens or changes (diagnostics are
published then); requests are answered from the latest outline.
"""

from __future__ import annotations

from dataclasses import replace

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from motionprog.lsp import features
from motionprog.lsp.outline import Outline, read

server = LanguageServer("motionprog", "0.1.0", text_document_sync_kind=types.TextDocumentSyncKind.Full)
outlines: dict[str, Outline] = {}


def _refresh(ls: LanguageServer, uri: str) -> None:
    """Re-read a document; while it does not parse (mid-edit), its names are the last reading's."""
    document = ls.workspace.get_text_document(uri)
    outline, previous = read(document.source, document.path), outlines.get(uri)
    if outline.module is None and previous is not None:
        outline = replace(outline, descriptions=previous.descriptions, definitions=previous.definitions,
                          imports=previous.imports)
    outlines[uri] = outline
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=features.diagnostics(outlines[uri])))


def _outline(ls: LanguageServer, uri: str) -> tuple[Outline, str]:
    document = ls.workspace.get_text_document(uri)
    if uri not in outlines:
        outlines[uri] = read(document.source, document.path)
    return outlines[uri], document.source


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)  # an imported file or a mesh may have changed


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    outlines.pop(params.text_document.uri, None)


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: types.CompletionParams) -> list[types.CompletionItem]:
    return features.completion(*_outline(ls, params.text_document.uri), params.position)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    return features.hover(*_outline(ls, params.text_document.uri), params.position)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> types.Location | None:
    return features.definition(*_outline(ls, params.text_document.uri), params.position)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    return features.formatting(*_outline(ls, params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: LanguageServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    return features.symbols(_outline(ls, params.text_document.uri)[0])


def serve() -> None:
    """Answer an editor on stdin/stdout until it shuts the server down."""
    server.start_io()
