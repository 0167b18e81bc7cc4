// The Flow extension's client: starts `flowc lsp` and connects VS Code to it over stdio.
//
// Plain JavaScript (CommonJS), so there is no build step; `npm run check` type-checks it
// against the VS Code API with TypeScript (see tsconfig.json).
// @ts-check
'use strict';

const os = require('node:os');
const path = require('node:path');
const vscode = require('vscode');
const { LanguageClient, RevealOutputChannelOn } = require('vscode-languageclient/node');

const LANGUAGE_ID = 'flow';
const SECTION = 'flowc';

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

/**
 * Expands `~` and `${workspaceFolder}` in the configured path. A relative path that names a
 * file (`.venv/bin/flowc`) is taken relative to the first workspace folder; a bare command
 * name (`flowc`) is left for the system to find on PATH.
 * @param {string} configured
 * @returns {string}
 */
function resolveCommand(configured) {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  let command = configured.trim() || 'flowc';
  if (folder) command = command.replace(/\$\{workspaceFolder\}/g, folder);
  if (command === '~' || command.startsWith('~/')) command = path.join(os.homedir(), command.slice(1));
  const looksLikePath = command.includes('/') || command.includes('\\');
  if (looksLikePath && !path.isAbsolute(command) && folder) command = path.join(folder, command);
  return command;
}

/** @returns {{ command: string, args: string[] }} */
function serverCommand() {
  const config = vscode.workspace.getConfiguration(SECTION);
  const command = resolveCommand(config.get('path', 'flowc'));
  const args = config.get('args', ['lsp']);
  return { command, args: Array.isArray(args) ? args.map(String) : ['lsp'] };
}

/** @returns {Promise<void>} */
async function startClient() {
  const { command, args } = serverCommand();
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  outputChannel ??= vscode.window.createOutputChannel('Flow Language Server');
  outputChannel.appendLine(`Starting ${[command, ...args].join(' ')}`);

  // No `transport` here: vscode-languageclient would append `--stdio` to the arguments.
  // `flowc lsp` speaks LSP on its standard input and output as it is.
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const serverOptions = { command, args, options: cwd ? { cwd } : {} };

  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'untitled', language: LANGUAGE_ID },
    ],
    synchronize: {
      // Imported files change what a file sees: tell the server about every .flow change.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.flow'),
    },
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };

  // The client reads the `flowc.trace.server` setting itself (its id is `flowc`).
  client = new LanguageClient(SECTION, 'Flow Language Server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outputChannel.appendLine(`Could not start the language server: ${message}`);
    client = undefined;
    const choice = await vscode.window.showErrorMessage(
      `Flow: could not start "${[command, ...args].join(' ')}". ` +
        'Install flowc, or set "flowc.path" to the flowc executable (for example .venv/bin/flowc).',
      'Open Settings',
      'Show Output',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.path`);
    } else if (choice === 'Show Output') {
      outputChannel.show();
    }
  }
}

/** @returns {Promise<void>} */
async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      outputChannel?.appendLine(`Stopping the language server failed: ${String(error)}`);
    }
  }
}

/** @returns {Promise<void>} */
async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('flowc.restartServer', restartClient),
    vscode.commands.registerCommand('flowc.showOutput', () => outputChannel?.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.path`) || event.affectsConfiguration(`${SECTION}.args`)) {
        void restartClient();
      }
    }),
    { dispose: () => void stopClient() },
  );
  await startClient();
}

/** @returns {Promise<void>} */
async function deactivate() {
  await stopClient();
}

module.exports = { activate, deactivate };
