/**
 * Small text helpers shared by the views (components/, widgets/): sizes, image
 * names, GPU requests, ages, host states and fixes. Pure functions; the ones
 * that return words take the extension's `TranslationBundle` (default: none).
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IDockerHost, IGPU } from './api';
import { parseGpuSpec } from './gpuSpec';
import { loadTrans } from './translation';

/** 1234567890 -> "1.2 GB" (decimal units, as `docker images` prints them). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || isNaN(bytes)) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** 81920 -> "80 GiB", 512 -> "512 MiB". */
export function formatMiB(mib: number | null | undefined): string {
  if (mib === null || mib === undefined) {
    return '?';
  }
  if (mib >= 1024) {
    const gib = mib / 1024;
    return `${gib < 10 ? gib.toFixed(1) : Math.round(gib)} GiB`;
  }
  return `${mib} MiB`;
}

/** The last path component: "a/b/c.ipynb" -> "c.ipynb". */
export function basename(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/** "registry:5000/team/ml:1.2" -> "team/ml:1.2"; ids are shortened to 12 hex digits. */
export function shortImage(image: string): string {
  if (!image) {
    return '';
  }
  const id = image.match(/^(?:sha256:)?([0-9a-f]{64})$/);
  if (id) {
    return id[1].slice(0, 12);
  }
  const slash = image.indexOf('/');
  if (slash > 0 && /[.:]|^localhost$/.test(image.slice(0, slash))) {
    return image.slice(slash + 1);
  }
  return image;
}

/**
 * "device=0,2" -> "GPUs 0, 2"; "1" -> "1 GPU"; "none" -> "no GPU" (the
 * server's specs/gpus.describe_gpus says the same: gpu_spec_cases.json); a
 * spec the server would refuse is shown as written.
 */
export function describeGpuRequest(
  gpus: string | undefined,
  trans: TranslationBundle = loadTrans()
): string {
  const spec = parseGpuSpec(gpus);
  switch (spec?.kind) {
    case 'none':
      return trans.__('no GPU');
    case 'all':
      return trans.__('all GPUs');
    case 'count':
      return trans._n('%1 GPU', '%1 GPUs', spec.count);
    case 'devices':
      return describeIds(spec.devices, trans);
    case 'cdi':
      return spec.devices.join(', ');
    default:
      return (gpus ?? '').trim();
  }
}

/** ["0", "2"] -> "GPUs 0, 2". */
function describeIds(ids: string[], trans: TranslationBundle): string {
  return ids.length === 1
    ? trans.__('GPU %1', ids[0])
    : trans.__('GPUs %1', ids.join(', '));
}

/** Held device ids ("0,2") -> "GPU 0, 2", "" -> "no GPU". */
export function describeHeldGpus(
  gpus: string,
  trans: TranslationBundle = loadTrans()
): string {
  const ids = gpus.split(',').filter(Boolean);
  if (!ids.length) {
    return trans.__('no GPU');
  }
  return describeIds(ids, trans);
}

/** "2024-05-01T10:00:00Z" -> "5 min ago". */
export function since(
  iso: string | null | undefined,
  trans: TranslationBundle = loadTrans(),
  now: number = Date.now()
): string {
  if (!iso) {
    return '';
  }
  const then = Date.parse(iso);
  if (isNaN(then)) {
    return iso;
  }
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) {
    return trans.__('%1 s ago', seconds);
  }
  if (seconds < 3600) {
    return trans.__('%1 min ago', Math.round(seconds / 60));
  }
  if (seconds < 86400) {
    return trans.__('%1 h ago', Math.round(seconds / 3600));
  }
  return trans.__('%1 d ago', Math.round(seconds / 86400));
}

/** Percentage 0-100 of used/total, or null when unknown. */
export function percent(
  used: number | null | undefined,
  total: number | null | undefined
): number | null {
  if (used === null || used === undefined || !total) {
    return null;
  }
  return Math.max(0, Math.min(100, (100 * used) / total));
}

export function isFree(gpu: IGPU): boolean {
  return gpu.holders.length === 0;
}

/** "ok", "no GPU driver", "unreachable": the short state of a host. */
export function hostState(host: IDockerHost): 'ok' | 'warn' | 'error' {
  if (host.error || host.reachable === false) {
    return 'error';
  }
  if (!host.gpu_driver) {
    return 'warn';
  }
  return 'ok';
}

/**
 * How to fix what is wrong with a host, in one sentence (empty when nothing is).
 */
export function hostFix(
  host: IDockerHost,
  trans: TranslationBundle = loadTrans()
): string {
  const error = host.error ?? '';
  if (host.error || host.reachable === false) {
    if (/permission denied/i.test(error)) {
      return trans.__(
        'Fix: give the Jupyter server access to the Docker socket (e.g. add the user to the "docker" group), then refresh.'
      );
    }
    if (/ssh|authenticat|host key/i.test(error)) {
      return trans.__(
        'Fix: check that "ssh <host> docker version" works for the user running Jupyter (key, known_hosts), then refresh.'
      );
    }
    if (/tls|certificate|ssl/i.test(error)) {
      return trans.__(
        'Fix: check the host\'s TLS files (tls_ca, tls_cert, tls_key) with "jupyter gpu-kernels doctor".'
      );
    }
    return trans.__(
      'Fix: start the Docker daemon there or correct the URL ("jupyter gpu-kernels hosts add NAME URL"), then refresh. "jupyter gpu-kernels doctor" tells more.'
    );
  }
  if (!host.gpu_driver) {
    if (/no image/i.test(host.gpu_status ?? '')) {
      return trans.__(
        'Fix: pull any image to this host (below) so its GPUs can be probed.'
      );
    }
    return trans.__(
      'Fix: install the NVIDIA Container Toolkit on this host ("nvidia-ctk runtime configure --runtime=docker") and restart dockerd. CPU-only kernels still work.'
    );
  }
  return '';
}
