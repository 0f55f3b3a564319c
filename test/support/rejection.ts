import { ConnectError } from "@connectrpc/connect";

/** The ConnectError a promise rejects with; fails the test if it resolves. */
export async function rejection(pending: Promise<unknown>): Promise<ConnectError> {
  try {
    await pending;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}
