/**
 * `ModelSection`: a ReactWidget that re-renders when one of the given model
 * signals fires (and only then). The sidebar's host bar and accordion sections
 * are ModelSections, each listening to the signals of the data it shows.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';

export class ModelSection extends ReactWidget {
  constructor(options: ModelSection.IOptions) {
    super();
    this._render = options.render;
    this.addClass(options.className);
    this.addClass('jp-GPUKernels-section');
    if (options.label) {
      this.title.label = options.label;
    }
    for (const signal of options.signals) {
      signal.connect(this._onChange, this);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    Signal.clearData(this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return this._render();
  }

  private _onChange(): void {
    this.update();
  }

  private _render: () => JSX.Element;
}

export namespace ModelSection {
  export interface IOptions {
    /** The signals of the data the section shows. */
    signals: ISignal<unknown, unknown>[];
    render: () => JSX.Element;
    /** The accordion title. */
    label?: string;
    className: string;
  }
}
