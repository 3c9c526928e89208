/**
 * The terminal websocket's protocol: the JSON arrays of terminado (what
 * JupyterLab's terminals speak), for `gpu-kernels/api/kernels/{id}/terminal`
 * (server/terminal.py). Pure functions; used by widgets/KernelTerminal.ts and
 * tested in test/terminalProtocol.spec.ts.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A message from the server: output, the session is set up, or it ended. */
export type TerminalEvent =
  { kind: 'stdout'; text: string } | { kind: 'setup' } | { kind: 'disconnect' };

/** The websocket URL of a kernel's terminal, with the token as JupyterLab's services add it. */
export function terminalUrl(
  settings: ServerConnection.ISettings,
  kernelId: string
): string {
  let url = URLExt.join(
    settings.wsUrl,
    'gpu-kernels/api/kernels',
    encodeURIComponent(kernelId),
    'terminal'
  );
  if (settings.token && settings.appendToken) {
    url += `?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/** Keystrokes (or pasted text) for the shell. */
export function stdinMessage(data: string): string {
  return JSON.stringify(['stdin', data]);
}

/** The terminal's size in rows and columns (pixels as terminado sends them). */
export function sizeMessage(
  rows: number,
  cols: number,
  height = 0,
  width = 0
): string {
  return JSON.stringify(['set_size', rows, cols, height, width]);
}

/** A server message, or null for one this client does not know. */
export function parseMessage(raw: unknown): TerminalEvent | null {
  if (typeof raw !== 'string') {
    return null;
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!Array.isArray(data) || data.length === 0) {
    return null;
  }
  switch (data[0]) {
    case 'stdout':
      return typeof data[1] === 'string'
        ? { kind: 'stdout', text: data[1] }
        : null;
    case 'setup':
      return { kind: 'setup' };
    case 'disconnect':
      return { kind: 'disconnect' };
    default:
      return null;
  }
}
