/**
 * The host picker at the top of the panel, with the selected host's status.
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IDockerHost } from './api';
import { hostFix, hostState } from './format';
import { GPUKernelsModel } from './model';

/**
 * Text shown when no Docker host is reachable, e.g. on Binder.
 */
export const NO_HOST_HELP =
  'GPU kernels run in Docker containers, so they need a Docker host. Start a ' +
  'Docker daemon on this machine, or add a remote one from a terminal with ' +
  '"jupyter gpu-kernels hosts add NAME ssh://user@host" (or tcp://host:2376 ' +
  'with TLS), then press Refresh. Admins can list hosts in ' +
  'c.DockerHosts.hosts.';

function optionLabel(host: IDockerHost): string {
  const state = hostState(host);
  const mark = state === 'ok' ? '●' : state === 'warn' ? '◐' : '○';
  const gpus =
    state === 'error'
      ? 'unreachable'
      : host.gpu_count
        ? `${host.gpu_count} GPU${host.gpu_count === 1 ? '' : 's'}`
        : 'no GPU';
  return `${mark} ${host.name} — ${gpus}`;
}

function HostStatus(props: { host: IDockerHost }): JSX.Element {
  const { host } = props;
  const state = hostState(host);
  const fix = hostFix(host);
  return (
    <div
      className={`jp-GPUKernels-hostStatus jp-mod-${state}`}
      data-host={host.name}
      data-state={state}
      title={host.description || ''}
    >
      <div className="jp-GPUKernels-chips">
        <span
          className={`jp-GPUKernels-chip jp-mod-${state === 'error' ? 'error' : 'ok'}`}
        >
          <span
            className={`jp-GPUKernels-dot jp-mod-${state === 'error' ? 'error' : 'ok'}`}
          />
          {state === 'error' ? 'unreachable' : 'reachable'}
        </span>
        {state !== 'error' && (
          <span className="jp-GPUKernels-chip">
            Docker {host.engine_version ?? '?'}
          </span>
        )}
        {state !== 'error' && (
          <span
            className={`jp-GPUKernels-chip jp-mod-${host.gpu_driver ? 'ok' : 'warn'}`}
          >
            GPU driver: {host.gpu_driver ? 'yes' : 'no'}
          </span>
        )}
      </div>
      <div className="jp-GPUKernels-hostUrl">{host.url}</div>
      {host.error && (
        <div className="jp-GPUKernels-error" role="alert">
          {host.error}
        </div>
      )}
      {!host.error && !host.gpu_driver && host.gpu_status && (
        <div className="jp-GPUKernels-warning" role="status">
          {/NVIDIA Container Toolkit/.test(host.gpu_status)
            ? 'No NVIDIA Container Toolkit on this host: kernels get no GPU here.'
            : host.gpu_status}
        </div>
      )}
      {fix && <div className="jp-GPUKernels-hint">{fix}</div>}
    </div>
  );
}

export function HostBar(props: { model: GPUKernelsModel }): JSX.Element {
  const { model } = props;
  const { value: hosts, error } = model.hosts;
  if (error && !hosts) {
    return (
      <div className="jp-GPUKernels-hostBar">
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      </div>
    );
  }
  if (!hosts) {
    return (
      <div className="jp-GPUKernels-hostBar">
        <div className="jp-GPUKernels-message">Loading Docker hosts…</div>
      </div>
    );
  }
  const info = model.hostInfo;
  const anyReachable = hosts.some(h => hostState(h) !== 'error');
  return (
    <div className="jp-GPUKernels-hostBar">
      <label className="jp-GPUKernels-hostPicker">
        <span className="jp-GPUKernels-hostLabel">Host</span>
        <HTMLSelect
          className="jp-GPUKernels-hostSelect"
          aria-label="Docker host"
          value={model.host}
          onChange={event => void model.selectHost(event.target.value)}
          options={hosts.map(h => ({ label: optionLabel(h), value: h.name }))}
        />
      </label>
      {!anyReachable && (
        <div className="jp-GPUKernels-noHost" role="alert">
          <strong>No Docker host is reachable.</strong> {NO_HOST_HELP}
        </div>
      )}
      {info && <HostStatus host={info} />}
    </div>
  );
}
