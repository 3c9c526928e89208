/**
 * The environment form's field markup, once: a labelled control with an
 * optional hint and the server's message when it is about this field. Used by
 * EnvironmentForm.tsx and GpuRequestField.tsx; pure views (props in, events out).
 */
import * as React from 'react';

import { FormField, IFieldError } from '../formState';

/** The message of `error` when it is about `field`. */
export function FieldError(props: {
  field: FormField;
  error: IFieldError | null;
}): JSX.Element | null {
  if (!props.error || props.error.field !== props.field) {
    return null;
  }
  return (
    <div
      className="jp-GPUKernels-fieldError"
      role="alert"
      data-field={props.field}
    >
      {props.error.message}
    </div>
  );
}

export interface IFieldProps {
  /** The field a server message can be about (marks the field invalid). */
  field: FormField | null;
  label: string;
  error: IFieldError | null;
  hint?: string;
  /** Below the control, above the hint (e.g. a datalist, a warning). */
  after?: React.ReactNode;
  /** False when the message is shown elsewhere (fields in one row). */
  showError?: boolean;
  children: React.ReactNode;
}

/** `<div class="jp-GPUKernels-field">`: label + control, hint, error. */
export function Field(props: IFieldProps): JSX.Element {
  const { field, error } = props;
  const invalid = field !== null && error?.field === field;
  return (
    <div className={`jp-GPUKernels-field${invalid ? ' jp-mod-invalid' : ''}`}>
      <label>
        <span className="jp-GPUKernels-label">{props.label}</span>
        {props.children}
      </label>
      {props.after}
      {props.hint && <div className="jp-GPUKernels-hint">{props.hint}</div>}
      {field !== null && props.showError !== false && (
        <FieldError field={field} error={error} />
      )}
    </div>
  );
}

/** A text input (or textarea with `rows`) named after its form field. */
export function TextField(
  props: Omit<IFieldProps, 'children' | 'field'> & {
    name: string;
    value: string;
    onChange: (value: string) => void;
    placeholder?: string;
    /** Whether the server may say this field is wrong (sets aria-invalid). */
    validated?: boolean;
    rows?: number;
    list?: string;
  }
): JSX.Element {
  const { name, value, placeholder, rows } = props;
  const field = props.validated === false ? null : (name as FormField);
  const common = {
    className: 'jp-mod-styled jp-GPUKernels-input',
    name,
    value,
    placeholder,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      props.onChange(e.target.value)
  };
  return (
    <Field {...props} field={field}>
      {rows ? (
        <textarea {...common} rows={rows} />
      ) : (
        <input
          {...common}
          list={props.list}
          aria-invalid={
            field !== null ? props.error?.field === field : undefined
          }
        />
      )}
    </Field>
  );
}

/** A select named after its form field; `options` are [value, label] pairs. */
export function SelectField(
  props: Omit<IFieldProps, 'children' | 'field'> & {
    name: FormField;
    value: string;
    options: [string, string][];
    onChange: (value: string) => void;
  }
): JSX.Element {
  return (
    <Field {...props} field={props.name}>
      <select
        className="jp-mod-styled jp-GPUKernels-input"
        name={props.name}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}
