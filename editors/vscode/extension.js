// Starts `motionprog lsp` for .mprog files; everything else comes from the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("motionprog").get("command");
  client = new LanguageClient("motionprog", "motionprog", { command, args },
    { documentSelector: [{ scheme: "file", language: "mprog" }] });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
