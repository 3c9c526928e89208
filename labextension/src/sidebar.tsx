import { ServerConnection } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { apiUrl, requestAPI } from './request';

/**
 * One Docker host as reported by `GET <baseUrl>gpu-kernels/api/hosts`
 * (`jupyter_gpu_kernels/status.py::host_status`). Only `name` is required
 * here; everything else is rendered when present.
 */
export interface IDockerHost {
  /** Display name of the host (e.g. `local`, `gpu-box`). */
  name: string;
  /** Docker endpoint, e.g. `unix:///var/run/docker.sock` or `ssh://user@host`. */
  url?: string;
  /** Whether the daemon answered. */
  reachable?: boolean;
  /** Short status; derived from `reachable`/`error` when absent. */
  status?: string;
  /** Why the host is not usable (shown prominently). */
  error?: string | null;
  /** Optional hint on how to fix the problem. */
  hint?: string | null;
  /** Docker engine version of a reachable host. */
  engine_version?: string | null;
  /** NVIDIA driver version, when GPUs were found. */
  gpu_driver?: string | null;
  /** Number of GPUs seen on the host. */
  gpu_count?: number | null;
  /** Why GPUs are missing or limited, e.g. "no GPU driver on this host". */
  gpu_status?: string | null;
  /** GPUs seen on the host (alternative to `gpu_count`). */
  gpus?: unknown[];
  /** Admin/user description of the host. */
  description?: string;
  /** Where the host comes from: `builtin`, `config` or `user`. */
  source?: string;
}

/**
 * The endpoint may answer with a bare list or with `{hosts: [...]}`.
 */
type HostsReply = IDockerHost[] | { hosts?: IDockerHost[] };

/**
 * What the sidebar currently knows.
 */
interface IState {
  loading: boolean;
  hosts: IDockerHost[] | null;
  /** Error text when the request itself failed. */
  error: string | null;
  updated: Date | null;
}

/**
 * Text shown when no Docker host is reachable, e.g. on Binder.
 */
export const NO_HOST_HELP =
  'GPU kernels run in Docker containers, so they need a Docker host. Start a ' +
  'Docker daemon on this machine, or add a remote one from a terminal with ' +
  '"jupyter gpu-kernels hosts add NAME ssh://user@host" (or tcp://host:2376 ' +
  'with TLS), then press Refresh. Admins can list hosts in ' +
  'c.DockerHosts.hosts.';

function gpuCount(host: IDockerHost): number | null {
  if (typeof host.gpu_count === 'number') {
    return host.gpu_count;
  }
  if (Array.isArray(host.gpus)) {
    return host.gpus.length;
  }
  return null;
}

function isReachable(host: IDockerHost): boolean {
  if (host.error) {
    return false;
  }
  return typeof host.reachable === 'boolean' ? host.reachable : true;
}

function hostStatus(host: IDockerHost): string {
  if (host.status) {
    return host.status;
  }
  if (host.error || host.reachable === false) {
    return 'unreachable';
  }
  return host.reachable ? 'ok' : 'unknown';
}

function HostItem(props: { host: IDockerHost }): JSX.Element {
  const { host } = props;
  const failed = !!host.error;
  const status = hostStatus(host);
  const gpus = gpuCount(host);
  const details = [
    gpus !== null ? (gpus === 1 ? '1 GPU' : `${gpus} GPUs`) : null,
    host.gpu_driver ? `driver ${host.gpu_driver}` : null,
    host.engine_version ? `Docker ${host.engine_version}` : null
  ].filter(Boolean);
  return (
    <li
      className={
        'jp-GPUKernels-host' + (failed ? ' jp-GPUKernels-host-failed' : '')
      }
      data-host={host.name}
    >
      <div className="jp-GPUKernels-hostHeader">
        <span className="jp-GPUKernels-hostName">{host.name}</span>
        <span
          className={`jp-GPUKernels-status jp-GPUKernels-status-${status
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, '-')}`}
        >
          {status}
        </span>
      </div>
      {host.url && <div className="jp-GPUKernels-hostUrl">{host.url}</div>}
      {host.description && (
        <div className="jp-GPUKernels-hostDescription">{host.description}</div>
      )}
      {details.length > 0 && (
        <div className="jp-GPUKernels-hostGpus">{details.join(' · ')}</div>
      )}
      {host.gpu_status && (
        <div className="jp-GPUKernels-hint">{host.gpu_status}</div>
      )}
      {failed && (
        <div className="jp-GPUKernels-hostError" role="alert">
          {host.error}
        </div>
      )}
      {host.hint && <div className="jp-GPUKernels-hint">{host.hint}</div>}
    </li>
  );
}

/**
 * The body of the sidebar: hosts list, empty state or error text.
 */
function HostsView(props: IState): JSX.Element {
  const { hosts, error, loading } = props;
  if (error) {
    return (
      <div className="jp-GPUKernels-error" role="alert">
        {error}
      </div>
    );
  }
  if (hosts === null) {
    return (
      <div className="jp-GPUKernels-message">
        {loading ? 'Loading Docker hosts…' : 'Not loaded yet.'}
      </div>
    );
  }
  const reachable = hosts.filter(isReachable);
  return (
    <>
      {reachable.length === 0 && (
        <div className="jp-GPUKernels-noHost" role="alert">
          <strong>No Docker host is reachable.</strong> {NO_HOST_HELP}
        </div>
      )}
      {hosts.length > 0 && (
        <ul className="jp-GPUKernels-hosts">
          {hosts.map(host => (
            <HostItem key={host.name} host={host} />
          ))}
        </ul>
      )}
    </>
  );
}

/**
 * Left-sidebar panel listing the Docker hosts known to the server.
 *
 * Kept deliberately small: later work adds GPUs, images and running kernels.
 */
export class GPUKernelsSidebar extends ReactWidget {
  constructor(options: GPUKernelsSidebar.IOptions) {
    super();
    this._serverSettings = options.serverSettings;
    this._refreshInterval = options.refreshInterval ?? 5;
    this.addClass('jp-GPUKernels-sidebar');
  }

  /**
   * Seconds between refreshes while the panel is visible; 0 disables polling.
   */
  get refreshInterval(): number {
    return this._refreshInterval;
  }
  set refreshInterval(seconds: number) {
    this._refreshInterval = Math.max(0, seconds);
    this._schedule();
  }

  /**
   * Fetch the hosts list now and re-render.
   */
  async refresh(): Promise<void> {
    this._state = { ...this._state, loading: true };
    this.update();
    try {
      const reply = await requestAPI<HostsReply>(
        'hosts',
        {},
        this._serverSettings
      );
      const hosts = Array.isArray(reply) ? reply : reply?.hosts ?? [];
      this._state = {
        loading: false,
        hosts,
        error: null,
        updated: new Date()
      };
    } catch (reason) {
      this._state = {
        loading: false,
        hosts: null,
        error: this._describeError(reason),
        updated: new Date()
      };
    }
    this.update();
    this._schedule();
  }

  dispose(): void {
    this._clearTimer();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      void this.refresh();
    }
  }

  protected onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    this._clearTimer();
  }

  protected render(): JSX.Element {
    const { updated, loading } = this._state;
    return (
      <div className="jp-GPUKernels-panel">
        <div className="jp-GPUKernels-header">
          <h2 className="jp-GPUKernels-title">GPU Kernels</h2>
          <button
            className="jp-mod-styled jp-GPUKernels-refresh"
            title="Refresh Docker hosts"
            disabled={loading}
            onClick={() => void this.refresh()}
          >
            Refresh
          </button>
        </div>
        <h3 className="jp-GPUKernels-sectionTitle">Docker hosts</h3>
        <HostsView {...this._state} />
        {updated && (
          <div className="jp-GPUKernels-updated">
            Updated {updated.toLocaleTimeString()}
          </div>
        )}
      </div>
    );
  }

  private _describeError(reason: unknown): string {
    if (reason instanceof ServerConnection.ResponseError) {
      const status = reason.response.status;
      if (status === 404) {
        return (
          'The jupyter_gpu_kernels server extension did not answer ' +
          `(404 for ${apiUrl('hosts', this._serverSettings)}). ` +
          'Check that it is installed and enabled: jupyter server extension list'
        );
      }
      return `Server error ${status}: ${reason.message}`;
    }
    if (reason instanceof ServerConnection.NetworkError) {
      return `Cannot reach the Jupyter server: ${reason.message}`;
    }
    return `Unexpected error: ${String(reason)}`;
  }

  private _schedule(): void {
    this._clearTimer();
    if (this._refreshInterval > 0 && this.isVisible && !this.isDisposed) {
      this._timer = window.setTimeout(
        () => void this.refresh(),
        this._refreshInterval * 1000
      );
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _serverSettings: ServerConnection.ISettings;
  private _refreshInterval: number;
  private _timer: number | null = null;
  private _state: IState = {
    loading: false,
    hosts: null,
    error: null,
    updated: null
  };
}

export namespace GPUKernelsSidebar {
  export interface IOptions {
    /** The app's server settings (`app.serviceManager.serverSettings`). */
    serverSettings: ServerConnection.ISettings;
    /** Seconds between refreshes; 0 disables polling. Default 5. */
    refreshInterval?: number;
  }
}
