/**
 * REST types and calls for copying an image from one Docker host to another
 * (server/copy_handlers.py): start a copy, poll it until it is done or
 * failed. A thin companion of `GPUKernelsAPI` (api.ts), over the same server
 * settings, like buildApi.ts.
 */
import { GPUKernelsAPI } from './api';
import { enc, requestJSON } from './request';

/** `POST hosts/{host}/images/copy`, `GET .../copies/{id}`. */
export interface ICopy {
  id: string;
  /** The source host. */
  host: string;
  /** The target host. */
  to: string;
  image: string;
  status: 'running' | 'done' | 'failed';
  message: string;
  /** The last log lines. */
  log: string[];
  error: string | null;
  bytes_done: number | null;
  bytes_total: number | null;
}

/** One method per endpoint, and the poll of a copy until it ends. */
export class CopiesAPI {
  constructor(private _api: GPUKernelsAPI) {}

  startCopy(host: string, image: string, to: string): Promise<ICopy> {
    return requestJSON<ICopy>(
      this._api.serverSettings,
      'POST',
      `hosts/${enc(host)}/images/copy`,
      { image, to }
    );
  }

  copy(host: string, id: string): Promise<ICopy> {
    return requestJSON<ICopy>(
      this._api.serverSettings,
      'GET',
      `hosts/${enc(host)}/images/copies/${enc(id)}`
    );
  }

  /** Poll `copy` every `intervalMs` until it is no longer running. */
  async wait(copy: ICopy, intervalMs = 1000): Promise<ICopy> {
    let state = copy;
    while (state.status === 'running') {
      await new Promise(resolve => setTimeout(resolve, intervalMs));
      state = await this.copy(state.host, state.id);
    }
    return state;
  }
}
