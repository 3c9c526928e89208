/**
 * `BuildLogWidget`: a main-area panel following one build
 * (`GET hosts/{host}/images/builds/{id}`, polled every second while it runs):
 * step n/m with a progress bar, the last log lines, then "New environment from
 * this image" (the environment form, prefilled) or the build's error.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api';
import { stepText } from '../build';
import { BuildsAPI, IBuild } from '../buildApi';
import { gpuIcon } from '../icon';

const POLL_MS = 1000;

class BuildView extends ReactWidget {
  constructor(
    private _builds: BuildsAPI,
    private _build: IBuild,
    private _onNewEnvironment: (image: string, host: string) => void,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-buildLog');
    this._schedule();
  }

  dispose(): void {
    window.clearTimeout(this._timer);
    super.dispose();
  }

  private _schedule(): void {
    if (this._build.status === 'running' && !this.isDisposed) {
      this._timer = window.setTimeout(() => void this._poll(), POLL_MS);
    }
  }

  private async _poll(): Promise<void> {
    try {
      this._build = await this._builds.build(this._build.host, this._build.id);
      this._pollError = null;
    } catch (reason) {
      this._pollError = errorMessage(reason, this._trans);
    }
    this.update();
    this._schedule();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const b = this._build;
    return (
      <div
        className="jp-GPUKernels-log"
        data-build-id={b.id}
        data-status={b.status}
      >
        <div className="jp-GPUKernels-buildHeader">
          <span className="jp-GPUKernels-buildStep" role="status">
            {stepText(b, trans)}
          </span>{' '}
          <span className="jp-GPUKernels-dim">
            {trans.__('%1 on %2', b.tag, b.host)}
          </span>
          {b.status === 'running' && (
            <progress
              className="jp-GPUKernels-buildProgress"
              {...(b.steps ? { max: b.steps, value: b.step } : {})}
            />
          )}
        </div>
        {this._pollError && (
          <div className="jp-GPUKernels-error" role="alert">
            {trans.__('Cannot follow the build: %1', this._pollError)}
          </div>
        )}
        {b.status === 'failed' && (
          <div className="jp-GPUKernels-error" role="alert">
            {b.error || trans.__('The build failed.')}
          </div>
        )}
        {b.status === 'done' && (
          <button
            className="jp-mod-styled jp-mod-accept jp-GPUKernels-buildNewEnv"
            onClick={() => this._onNewEnvironment(b.tag, b.host)}
          >
            {trans.__('New environment from this image')}
          </button>
        )}
        <pre className="jp-GPUKernels-logText">{b.log.join('\n')}</pre>
      </div>
    );
  }

  private _timer = 0;
  private _pollError: string | null = null;
}

/** A main-area widget following `build` until it is done or failed. */
export function createBuildLogWidget(
  builds: BuildsAPI,
  build: IBuild,
  onNewEnvironment: (image: string, host: string) => void,
  trans: TranslationBundle
): MainAreaWidget<ReactWidget> {
  const content = new BuildView(builds, build, onNewEnvironment, trans);
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-GPUKernels-build-${build.id}`;
  widget.title.label = trans.__('Build: %1', build.tag);
  widget.title.icon = gpuIcon;
  widget.title.closable = true;
  return widget;
}
