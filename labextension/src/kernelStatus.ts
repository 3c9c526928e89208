/**
 * What the server says about kernels beyond "running", as text and decisions:
 * deaths to notify (`DeathWatcher`: once per new `last_death.at`), a start's
 * progress ("pulling image 45% (120/260 MB, 3/7 layers)"), a pull's bytes, and
 * an image's CUDA warning against the selected host. Plain functions of REST
 * data (api.ts), used by the status tracker (statusTracker.ts) and the views.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IImage, IKernelRow, IPull, IStartingKernel } from './api';
import { basename } from './format';
import { loadTrans } from './translation';

/**
 * Remembers the last death seen per kernel; `update` returns the rows of this
 * server whose `last_death.at` is new. A death seen at the first look counts
 * only if it happened after `since` (the page load), so a reload does not
 * repeat old news.
 */
export class DeathWatcher {
  constructor(private _since: number = Date.now()) {}

  update(rows: IKernelRow[]): IKernelRow[] {
    const fresh: IKernelRow[] = [];
    for (const row of rows) {
      const at = row.this_server ? row.last_death?.at : null;
      if (!at || this._seen.get(row.kernel_id) === at) {
        continue;
      }
      const known = this._seen.has(row.kernel_id);
      this._seen.set(row.kernel_id, at);
      const when = Date.parse(at);
      if (known || isNaN(when) || when >= this._since) {
        fresh.push(row);
      }
    }
    return fresh;
  }

  private _seen = new Map<string, string>();
}

/** The name of a kernel for messages: its notebook's file name, else environment or id. */
export function kernelLabel(row: {
  notebook: string;
  environment: string;
  kernel_id: string;
}): string {
  return basename(row.notebook) || row.environment || row.kernel_id.slice(0, 8);
}

/** "container OOM-killed at …" → "OOM-killed at …" (the row already says it is a kernel). */
export function deathReason(row: IKernelRow): string {
  return (row.last_death?.reason ?? '').replace(/^container /, '');
}

/** "kernel of analysis.ipynb OOM-killed at its 200 MiB memory limit; restarted" */
export function deathMessage(
  row: IKernelRow,
  trans: TranslationBundle = loadTrans()
): string {
  const reason = deathReason(row);
  if (row.state === 'dead') {
    return trans.__(
      'kernel of %1 %2; its restart failed: %3',
      kernelLabel(row),
      reason,
      row.error || trans.__('unknown error')
    );
  }
  return trans.__('kernel of %1 %2; restarted', kernelLabel(row), reason);
}

function megabytes(bytes: number): string {
  return String(Math.round(bytes / 1e6));
}

/**
 * "45% (120/260 MB, 3/7 layers)"; "120 MB so far, 3/7 layers" while some
 * layer's size is still unknown (the server sends no total then: the daemon
 * says a layer's size only when its download starts); '' before any bytes.
 */
export function bytesProgress(
  p: Pick<
    IStartingKernel,
    'bytes_done' | 'bytes_total' | 'layers_done' | 'layers_total'
  >,
  trans: TranslationBundle = loadTrans()
): string {
  const layers = p.layers_total
    ? trans.__(', %1/%2 layers', p.layers_done ?? 0, p.layers_total)
    : '';
  if (!p.bytes_total) {
    return p.bytes_done
      ? trans.__('%1 MB so far%2', megabytes(p.bytes_done), layers)
      : '';
  }
  const done = Math.min(p.bytes_done ?? 0, p.bytes_total);
  const pct = Math.floor((100 * done) / p.bytes_total);
  return trans.__(
    '%1% (%2/%3 MB%4)',
    pct,
    megabytes(done),
    megabytes(p.bytes_total),
    layers
  );
}

/** A start's phase as text: "pulling image 45% (120/260 MB, 3/7 layers)". */
export function startingText(
  s: IStartingKernel,
  trans: TranslationBundle = loadTrans()
): string {
  switch (s.phase) {
    case 'pulling': {
      const bytes = bytesProgress(s, trans);
      return bytes
        ? trans.__('pulling image %1', bytes)
        : trans.__('pulling image');
    }
    case 'preparing ipykernel':
      return trans.__('adding ipykernel to the image (first use)');
    case 'creating':
      return trans.__('creating container');
    case 'starting':
      return trans.__('starting kernel');
    default:
      return trans.__('preparing image');
  }
}

/** A pull's text with its bytes when known. */
export function pullText(
  pull: IPull,
  trans: TranslationBundle = loadTrans()
): string {
  const bytes = bytesProgress(
    {
      bytes_done: pull.bytes_done ?? null,
      bytes_total: pull.bytes_total ?? null,
      layers_done: pull.layers_done ?? null,
      layers_total: pull.layers_total ?? null
    },
    trans
  );
  return bytes
    ? trans.__('Pulling %1: %2', pull.image, bytes)
    : pull.message || trans.__('Pulling %1…', pull.image);
}

/** The CUDA line of an image: its requirement, and a warning when the host's driver cannot meet it. */
export function cudaBadge(
  image: IImage,
  trans: TranslationBundle = loadTrans()
): { text: string; warn: boolean; title: string } | null {
  if (!image.cuda_requirement) {
    return null;
  }
  const warn = image.cuda_ok === false;
  return {
    text: trans.__(
      'needs %1',
      image.cuda_requirement.replace(/^cuda/, 'CUDA ')
    ),
    warn,
    title:
      image.cuda_message ||
      (image.cuda_ok
        ? trans.__("The host's driver meets this requirement")
        : trans.__('NVIDIA_REQUIRE_CUDA of the image'))
  };
}

/** The warning for an image reference on a host, when the listed image says the driver is too old. */
export function cudaWarning(images: IImage[], ref: string): string | null {
  const image = images.find(i => i.tags.includes(ref.trim()));
  return image?.cuda_ok === false ? image.cuda_message || null : null;
}
