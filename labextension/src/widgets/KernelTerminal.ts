/**
 * A main-area terminal in a kernel's container: xterm.js (the packages
 * JupyterLab's terminal uses) over the websocket of server/terminal.py.
 * Opened by the `gpu-kernels:open-kernel-terminal` command
 * (terminalCommands.ts); it owns its websocket and closes it when disposed,
 * which ends the shell in the container.
 */
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

import {
  parseMessage,
  sizeMessage,
  stdinMessage,
  terminalUrl
} from '../terminalProtocol';

export class KernelTerminal extends Widget {
  constructor(options: {
    kernelId: string;
    label: string;
    trans: TranslationBundle;
    settings?: ServerConnection.ISettings;
  }) {
    super();
    const { kernelId, trans } = options;
    this.id = `gpu-kernels-terminal-${kernelId}`;
    this.addClass('jp-GPUKernels-terminal');
    this.title.label = trans.__('Terminal: %1', options.label);
    this.title.caption = trans.__(
      'A shell in the container of kernel %1',
      kernelId
    );
    this.title.closable = true;
    this.node.dataset.kernelId = kernelId;
    this._trans = trans;
    this._term = new Terminal({ cursorBlink: true, convertEol: false });
    this._term.loadAddon(this._fit);
    const settings = options.settings ?? ServerConnection.makeSettings();
    this._ws = new WebSocket(terminalUrl(settings, kernelId));
    this._ws.onmessage = event => this._onMessage(event.data);
    this._ws.onclose = () => this._onClose();
    this._ws.onopen = () => this._sendSize();
    this._term.onData(data => this._send(stdinMessage(data)));
  }

  /** The xterm.js terminal (for tests and other extensions). */
  get terminal(): Terminal {
    return this._term;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._ws.onclose = null;
    this._ws.close();
    this._term.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._opened) {
      this._term.open(this.node);
      this._opened = true;
    }
    this._fitAndResize();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitAndResize();
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this._term.focus();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._fitAndResize();
  }

  private _fitAndResize(): void {
    if (!this._opened || !this.isVisible) {
      return;
    }
    try {
      this._fit.fit();
    } catch {
      return; // not laid out yet
    }
    this._sendSize();
  }

  private _sendSize(): void {
    const { rows, cols } = this._term;
    this._send(
      sizeMessage(rows, cols, this.node.offsetHeight, this.node.offsetWidth)
    );
  }

  private _send(message: string): void {
    if (this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(message);
    }
  }

  private _onMessage(raw: unknown): void {
    const event = parseMessage(raw);
    if (event?.kind === 'stdout') {
      this._term.write(event.text);
    } else if (event?.kind === 'setup') {
      this._sendSize();
    }
  }

  private _onClose(): void {
    this.addClass('jp-mod-disconnected');
    this._term.write(
      `\r\n\x1b[2m${this._trans.__('[the shell ended; close this tab]')}\x1b[0m\r\n`
    );
  }

  private _trans: TranslationBundle;
  private _term: Terminal;
  private _fit = new FitAddon();
  private _ws: WebSocket;
  private _opened = false;
}
