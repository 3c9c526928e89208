/**
 * Types and calls of the server extension's REST API (`<baseUrl>gpu-kernels/api/`).
 * Used by the model (model.ts), which is the only caller of `GPUKernelsAPI`
 * inside this extension; other extensions get it through `IGPUKernels`.
 *
 * The shapes mirror the server's JSON (jupyter_gpu_kernels' handlers, host
 * status, GPU inventory, images, pulls and environments).
 */
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';

import { enc, requestJSON } from './request';
import { loadTrans } from './translation';

/** One Docker host (`GET hosts`, `status.py::host_status`). */
export interface IDockerHost {
  name: string;
  url?: string;
  local?: boolean;
  reachable?: boolean;
  engine_version?: string | null;
  api_version?: string | null;
  /** Whether the daemon can give containers GPUs (NVIDIA Container Toolkit). */
  gpu_driver?: boolean | string | null;
  gpu_count?: number | null;
  /** "4 GPU(s) via nvidia-smi", or why there are none. */
  gpu_status?: string | null;
  error?: string | null;
  source?: string;
  description?: string;
}

/** A kernel container holding a GPU. */
export interface IGPUHolder {
  kernel_id: string;
  container: string;
  /** The notebook the kernel was started for (as the starting server saw it). */
  notebook: string;
  environment: string;
  image: string;
  since: string;
  server: string;
  shared: boolean;
}

export interface IGPU {
  index: string;
  uuid: string;
  name: string;
  memory_total_mib: number | null;
  memory_used_mib: number | null;
  utilization_pct: number | null;
  holders: IGPUHolder[];
}

/** `GET hosts/{host}/gpus` */
export interface IGPUInventory {
  host: string;
  driver: boolean;
  source: string;
  gpus: IGPU[];
  error: string | null;
  status: string;
}

/** One image of `GET hosts/{host}/images`. */
export interface IImage {
  id: string;
  tags: string[];
  digests: string[];
  size: number | null;
  created: string | null;
  /** null: not checked yet. */
  has_ipykernel: boolean | null;
  ipykernel_version: string | null;
  allowed: boolean;
  /** The image's NVIDIA_REQUIRE_* requirements (" ; "-separated), null for none. */
  cuda_requirement?: string | null;
  /** Whether the host's driver meets them (null/absent: unknown or no GPU host). */
  cuda_ok?: boolean | null;
  /** "needs CUDA ≥ 13.1; gpu-box's driver 580.159 supports 13.0" */
  cuda_message?: string | null;
}

/** An image pull (`POST hosts/{host}/images/pull`, `GET .../pulls/{id}`). */
export interface IPull {
  id: string;
  host: string;
  image: string;
  status: 'running' | 'done' | 'failed';
  message: string;
  log: string[];
  error: string | null;
  /** Download progress (null before the daemon reports it). */
  bytes_done?: number | null;
  bytes_total?: number | null;
  layers_done?: number | null;
  layers_total?: number | null;
}

/** The editable fields of an environment. */
export interface IEnvironmentFields {
  image: string;
  display_name?: string;
  host?: string;
  /** none | all | N | device=0,2 | ... */
  gpus?: string;
  gpu_sharing?: boolean;
  memory?: string;
  /** A number; a string only to let the server explain what is wrong with it. */
  cpus?: number | string;
  shm_size?: string;
  mounts?: string[];
  env?: { [key: string]: string };
  pull_policy?: string;
  description?: string;
  /**
   * The container's ENTRYPOINT: null keeps the image's, [] clears it, a list
   * replaces it (a string only to let the server explain what is wrong).
   */
  entrypoint?: string[] | string | null;
}

/** An environment as the server returns it. */
export interface IEnvironment extends IEnvironmentFields {
  name: string;
  host: string;
  gpus: string;
  /** The kernelspec name: `gpu-<name>`. */
  kernel_name: string;
  read_only: boolean;
  source?: string;
}

/** One kernel container of `GET kernels`. */
export interface IKernelRow {
  kernel_id: string;
  container: string;
  host: string;
  image: string;
  environment: string;
  /** Comma-separated device ids held by the container ("" for none). */
  gpus: string;
  /** The session's path on this server, else the notebook the kernel was started for. */
  notebook: string;
  session_id: string | null;
  started: string;
  state: string;
  server: string;
  this_server: boolean;
  execution_state?: string | null;
  /** Why the container last died unasked (the kernel was restarted). */
  last_death?: IKernelDeath | null;
  /** State "dead" (a restart failed) or "unreachable": why. */
  error?: string | null;
  /** GPU-minutes of its current container. */
  gpu_minutes?: number | null;
  /** When the idle culler will shut it down (ISO 8601), once it was warned (server/culler.py). */
  cull_at?: string | null;
}

/** `last_death` of a kernel row (daemon/containers.py `death`). */
export interface IKernelDeath {
  reason: string;
  exit_code: number | null;
  oom_killed: boolean;
  memory_limit: number | null;
  /** When it died (ISO 8601): a new value is a new death. */
  at: string | null;
  container?: string;
}

/** A kernel start in progress (`GET starting`, kernel/progress.py). */
export interface IStartingKernel {
  kernel_id: string;
  host: string;
  image: string;
  environment: string;
  notebook: string;
  /** preparing | pulling | preparing ipykernel | creating | starting */
  phase: string;
  bytes_done: number | null;
  bytes_total: number | null;
  layers_done: number | null;
  layers_total: number | null;
}

/** The `POST orphans` body: only `kernelIds` (a row's Remove), else all of them. */
export function orphanRemoval(
  kernelIds?: string[]
): { kernel_ids: string[] } | { all: true } {
  return kernelIds?.length ? { kernel_ids: [...kernelIds] } : { all: true };
}

/** An orphaned kernel container (`GET orphans`, daemon/reaper.py). */
export interface IOrphan {
  kernel_id: string;
  host: string;
  image: string;
  environment: string;
  notebook: string;
  gpus: string;
  owner: string;
  server: string;
  container: string;
  /** The owner that is gone, "hostname:pid". */
  holder: string;
  gone_for: number;
  orphan_timeout: number;
  due: boolean;
  removed: boolean;
  /** Its owner is this server, which shut it down but could not remove it. */
  disowned?: boolean;
}

/**
 * Thin, typed wrappers around `requestJSON` (request.ts).
 */
export class GPUKernelsAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  async hosts(): Promise<IDockerHost[]> {
    const reply = await this._get<{ hosts: IDockerHost[] }>('hosts');
    return reply.hosts ?? [];
  }

  gpus(host: string): Promise<IGPUInventory> {
    return this._get<IGPUInventory>(`hosts/${enc(host)}/gpus`);
  }

  /**
   * The host's images. With `detect` false the server answers at once, with
   * `has_ipykernel: null` for images it has not checked yet (checking runs a
   * short-lived container per new image).
   */
  async images(host: string, detect = true): Promise<IImage[]> {
    const reply = await this._get<{ images: IImage[] }>(
      `hosts/${enc(host)}/images${detect ? '' : '?detect=0'}`
    );
    return reply.images ?? [];
  }

  startPull(host: string, image: string): Promise<IPull> {
    return this._send<IPull>('POST', `hosts/${enc(host)}/images/pull`, {
      image
    });
  }

  pull(host: string, id: string): Promise<IPull> {
    return this._get<IPull>(`hosts/${enc(host)}/images/pulls/${enc(id)}`);
  }

  async environments(): Promise<IEnvironment[]> {
    const reply = await this._get<{ environments: IEnvironment[] }>(
      'environments'
    );
    return reply.environments ?? [];
  }

  createEnvironment(
    name: string,
    fields: IEnvironmentFields
  ): Promise<IEnvironment> {
    return this._send<IEnvironment>('POST', 'environments', {
      name,
      ...fields
    });
  }

  updateEnvironment(
    name: string,
    fields: IEnvironmentFields
  ): Promise<IEnvironment> {
    return this._send<IEnvironment>('PUT', `environments/${enc(name)}`, fields);
  }

  async deleteEnvironment(name: string): Promise<void> {
    await this._send<void>('DELETE', `environments/${enc(name)}`);
  }

  async kernels(): Promise<IKernelRow[]> {
    const reply = await this._get<{ kernels: IKernelRow[] }>('kernels');
    return reply.kernels ?? [];
  }

  async shutdownKernel(kernelId: string): Promise<void> {
    await this._send<void>('DELETE', `kernels/${enc(kernelId)}`);
  }

  /** The last `tail` lines of a kernel container's stdout/stderr. */
  async kernelLogs(kernelId: string, tail = 200): Promise<string> {
    const reply = await this._get<{ logs: string }>(
      `kernels/${enc(kernelId)}/logs?tail=${tail}`
    );
    return reply.logs ?? '';
  }

  /** Kernel starts of this server in progress (image pulls, containers being created). */
  async starting(): Promise<IStartingKernel[]> {
    const reply = await this._get<{ starting: IStartingKernel[] }>('starting');
    return reply.starting ?? [];
  }

  async orphans(): Promise<IOrphan[]> {
    const reply = await this._get<{ orphans: IOrphan[] }>('orphans');
    return reply.orphans ?? [];
  }

  /** Remove orphaned kernel containers: every one (due or not), or only `kernelIds`. */
  async removeOrphans(kernelIds?: string[]): Promise<IOrphan[]> {
    const reply = await this._send<{ orphans: IOrphan[] }>(
      'POST',
      'orphans',
      orphanRemoval(kernelIds)
    );
    return reply.orphans ?? [];
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestJSON<T>(this.serverSettings, 'GET', endPoint);
  }

  private _send<T>(method: string, endPoint: string, body?: unknown) {
    return requestJSON<T>(this.serverSettings, method, endPoint, body);
  }
}

/**
 * The text to show for a failed API call: the server's own message when it sent one.
 */
export function errorMessage(
  reason: unknown,
  trans: TranslationBundle = loadTrans()
): string {
  if (reason instanceof ServerConnection.ResponseError) {
    const status = reason.response.status;
    if (status === 404 && !reason.message) {
      return trans.__(
        'The jupyter_gpu_kernels server extension did not answer (404). Check that it is enabled: jupyter server extension list'
      );
    }
    return reason.message || trans.__('Server error %1', status);
  }
  if (reason instanceof ServerConnection.NetworkError) {
    return trans.__('Cannot reach the Jupyter server: %1', reason.message);
  }
  return reason instanceof Error ? reason.message : String(reason);
}

/** HTTP status of a failed API call (0 when there was no response). */
export function errorStatus(reason: unknown): number {
  return reason instanceof ServerConnection.ResponseError
    ? reason.response.status
    : 0;
}
