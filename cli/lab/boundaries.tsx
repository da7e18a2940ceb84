/**
 * Error boundaries. A render error in one scrollback item becomes an error
 * line in its place; one in the live pane or prompt is reported as an error
 * block and the pane is mounted again, unless it keeps failing, which is fatal.
 */
import { Component, type ReactNode } from "react";
import type { Block } from "../../src/lab/view.ts";
import { BlockView } from "./Blocks.tsx";
import { errorBlock } from "./scroll.ts";

interface ItemProps {
  readonly children: ReactNode;
}

export class ItemBoundary extends Component<ItemProps, { error: Block | null }> {
  override state: { error: Block | null } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error: errorBlock(error, "could not display output: ") };
  }

  override render() {
    return this.state.error ? <BlockView block={this.state.error} /> : this.props.children;
  }
}

interface RootProps {
  readonly children: ReactNode;
  /** A recoverable render error: show it. */
  readonly onError: (error: unknown) => void;
  /** The pane failed again and again: give up. */
  readonly onFatal: (error: unknown) => void;
  /** Consecutive failures, without a good render in between, that are fatal. */
  readonly maxFailures?: number;
}

interface RootState {
  readonly failed: boolean;
  readonly generation: number;
}

export class RootBoundary extends Component<RootProps, RootState> {
  override state: RootState = { failed: false, generation: 0 };
  private failures = 0;

  static getDerivedStateFromError(): Partial<RootState> {
    return { failed: true };
  }

  override componentDidCatch(error: unknown) {
    this.failures++;
    if (this.failures >= (this.props.maxFailures ?? 3)) {
      this.props.onFatal(error);
      return;
    }
    this.props.onError(error);
    this.setState((s) => ({ failed: false, generation: s.generation + 1 }));
  }

  override componentDidUpdate() {
    if (!this.state.failed) this.failures = 0;
  }

  override render() {
    if (this.state.failed) return null;
    return <RootKey key={this.state.generation}>{this.props.children}</RootKey>;
  }
}

function RootKey({ children }: { children: ReactNode }) {
  return <>{children}</>;
}
