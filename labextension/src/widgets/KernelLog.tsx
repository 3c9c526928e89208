/**
 * `KernelLogWidget`: a main-area panel with a kernel container's recent log
 * (stdout and stderr of the kernel process, `GET kernels/{id}/logs`), with a
 * refresh button. Opened by the `gpu-kernels:show-log` command
 * (registerCommands.ts) from the Running kernels section.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  ReactWidget,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, GPUKernelsAPI } from '../api';
import { gpuIcon } from '../icon';

/** Lines asked for. */
const TAIL = 500;

class LogView extends ReactWidget {
  constructor(
    private _api: GPUKernelsAPI,
    private _kernelId: string,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-logView');
  }

  async refresh(): Promise<void> {
    this._loading = true;
    this.update();
    try {
      this._text = await this._api.kernelLogs(this._kernelId, TAIL);
      this._error = null;
    } catch (reason) {
      this._error = errorMessage(reason, this._trans);
    }
    this._loading = false;
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <div className="jp-GPUKernels-log" data-kernel-id={this._kernelId}>
        {this._error && (
          <div className="jp-GPUKernels-error" role="alert">
            {this._error}
          </div>
        )}
        {this._text === null && !this._error && (
          <div className="jp-GPUKernels-message">
            {trans.__('Loading the log…')}
          </div>
        )}
        {this._text !== null && (
          <pre className="jp-GPUKernels-logText" aria-busy={this._loading}>
            {this._text || trans.__('(the container has written nothing yet)')}
          </pre>
        )}
      </div>
    );
  }

  private _text: string | null = null;
  private _error: string | null = null;
  private _loading = false;
}

/** A main-area widget showing the last lines of a kernel container's log. */
export function createKernelLogWidget(
  api: GPUKernelsAPI,
  kernelId: string,
  name: string,
  trans: TranslationBundle
): MainAreaWidget<ReactWidget> {
  const content = new LogView(api, kernelId, trans);
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-GPUKernels-log-${kernelId}`;
  widget.title.label = trans.__('Log: %1', name);
  widget.title.icon = gpuIcon;
  widget.title.closable = true;
  widget.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      label: trans.__('Refresh'),
      tooltip: trans.__('Load the log again'),
      onClick: () => void content.refresh()
    })
  );
  void content.refresh();
  return widget;
}
