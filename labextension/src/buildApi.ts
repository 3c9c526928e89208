/**
 * REST types and calls for builds, commits, exports and recreating an
 * environment from a notebook (server/build_handlers.py,
 * server/notebook_handlers.py). A thin companion of `GPUKernelsAPI` (api.ts),
 * over the same server settings.
 */
import { GPUKernelsAPI } from './api';
import { enc, requestJSON } from './request';

/** `POST hosts/{host}/images/build`, `GET .../builds/{id}`. */
export interface IBuild {
  id: string;
  host: string;
  tag: string;
  path: string;
  status: 'running' | 'done' | 'failed';
  step: number;
  steps: number;
  /** The last log lines. */
  log: string[];
  image_id: string | null;
  error: string | null;
}

export interface IBuildRequest {
  /** The context directory, relative to the server root. */
  path: string;
  tag: string;
  /** The Dockerfile, relative to the context. */
  dockerfile?: string;
  build_args?: { [key: string]: string };
  overwrite?: boolean;
}

/** `POST kernels/{id}/commit`. */
export interface ICommit {
  image_id: string;
  tag: string;
  kernel_id: string;
  base_image: string;
  environment: string;
  host: string;
  diff: {
    added?: number;
    changed?: number;
    deleted?: number;
    total?: number;
    first?: string[];
    kernel_runtime_files?: number;
  };
  hint: string;
}

export type ExportFormat = 'run' | 'compose' | 'dockerfile' | 'json';

/** `GET environments/{name}/export`. */
export interface IExport {
  name: string;
  format: ExportFormat;
  image: string;
  text: string;
  warning: string | null;
}

/** `POST environments/from-notebook`. */
export interface IFromNotebook {
  name: string;
  /** The fields that would be (or were) created. */
  environment: { [key: string]: unknown };
  review: string[];
  exists: boolean;
  created: boolean;
}

/** One method per endpoint. */
export class BuildsAPI {
  constructor(private _api: GPUKernelsAPI) {}

  startBuild(host: string, request: IBuildRequest): Promise<IBuild> {
    return requestJSON(
      this._settings,
      'POST',
      `hosts/${enc(host)}/images/build`,
      request
    );
  }

  build(host: string, id: string): Promise<IBuild> {
    return requestJSON(
      this._settings,
      'GET',
      `hosts/${enc(host)}/images/builds/${enc(id)}`
    );
  }

  commitKernel(
    kernelId: string,
    tag: string,
    message: string
  ): Promise<ICommit> {
    return requestJSON(
      this._settings,
      'POST',
      `kernels/${enc(kernelId)}/commit`,
      {
        tag,
        message
      }
    );
  }

  exportEnvironment(name: string, format: ExportFormat): Promise<IExport> {
    return requestJSON(
      this._settings,
      'GET',
      `environments/${enc(name)}/export?format=${enc(format)}`
    );
  }

  fromNotebook(
    path: string,
    pinDigest: boolean,
    confirm: boolean
  ): Promise<IFromNotebook> {
    return requestJSON(this._settings, 'POST', 'environments/from-notebook', {
      path,
      pin_digest: pinDigest,
      confirm
    });
  }

  private get _settings() {
    return this._api.serverSettings;
  }
}
