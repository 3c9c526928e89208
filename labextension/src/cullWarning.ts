/**
 * The idle-cull warning: the server's culler (server/culler.py) puts `cull_at`
 * on the REST row of a kernel of this server once it is within its warning
 * window. `CullWatcher` decides which rows to notify (once per kernel and
 * `cull_at`; a kernel used again and warned later is notified again);
 * `cullMessage` and `cullTime` are the text. `addCullNotifications` shows a
 * JupyterLab notification for each (registered by kernelCommands.ts); the
 * running-kernels row shows the time (components/KernelNotes.tsx).
 */
import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { IKernelRow } from './api';
import { kernelLabel } from './kernelStatus';
import { GPUKernelsModel } from './model';
import { loadTrans } from './translation';

/** Remembers the `cull_at` notified per kernel; `update` returns the rows to notify now. */
export class CullWatcher {
  update(rows: IKernelRow[]): IKernelRow[] {
    const fresh: IKernelRow[] = [];
    const present = new Set<string>();
    for (const row of rows) {
      present.add(row.kernel_id);
      const at = row.this_server ? row.cull_at : null;
      if (!at) {
        this._notified.delete(row.kernel_id);
        continue;
      }
      if (this._notified.get(row.kernel_id) !== at) {
        this._notified.set(row.kernel_id, at);
        fresh.push(row);
      }
    }
    for (const id of [...this._notified.keys()]) {
      if (!present.has(id)) {
        this._notified.delete(id);
      }
    }
    return fresh;
  }

  private _notified = new Map<string, string>();
}

/** "10:42" (local time) of an ISO 8601 instant; the text as is when it does not parse. */
export function cullTime(at: string): string {
  const when = new Date(at);
  if (isNaN(when.getTime())) {
    return at;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

/** "GPU kernel of train.ipynb has been idle; it will be shut down at 10:42 to free its GPU — run a cell to keep it" */
export function cullMessage(
  row: IKernelRow,
  trans: TranslationBundle = loadTrans()
): string {
  const time = cullTime(row.cull_at ?? '');
  return row.gpus
    ? trans.__(
        'GPU kernel of %1 has been idle; it will be shut down at %2 to free its GPU — run a cell to keep it',
        kernelLabel(row),
        time
      )
    : trans.__(
        'Kernel of %1 has been idle; it will be shut down at %2 — run a cell to keep it',
        kernelLabel(row),
        time
      );
}

/** A warning notification for each kernel of this server the culler warned, once each. */
export function addCullNotifications(
  model: GPUKernelsModel,
  trans: TranslationBundle
): void {
  const watcher = new CullWatcher();
  model.kernelsChanged.connect(() => {
    const rows = model.kernels.value; // null while (re)loading or failed: not "no kernels"
    for (const row of rows ? watcher.update(rows) : []) {
      Notification.warning(cullMessage(row, trans), { autoClose: false });
    }
  });
}
