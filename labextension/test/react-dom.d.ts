// @types/react-dom is not a dependency: the entry point the component tests use, untyped.
declare module 'react-dom/client';
