// Reading values computed in a tf.tidy scope. tf.tidy walks whatever its function returns to keep
// the tensors in it, and walks a typed array or a nested array element by element (each into a
// Set): a FourRooms-11 search whose tidy returned dataSync() spent a third of its time there.
// So the tensor leaves the scope, is read, and is disposed.
import * as tf from "@tensorflow/tfjs";

type Data = tf.TypedArray;

/** fn's tensor's values (or `read` of it), with fn's intermediate tensors and its result disposed. */
export function tidyRead(fn: () => tf.Tensor): Data;
export function tidyRead<R>(fn: () => tf.Tensor, read: (t: tf.Tensor) => R): R;
export function tidyRead<R>(fn: () => tf.Tensor, read?: (t: tf.Tensor) => R): R | Data {
  const t = tf.tidy(fn);
  try {
    return read ? read(t) : (t.dataSync() as Data);
  } finally {
    t.dispose();
  }
}

/** Each of fn's tensors read (dataSync), all disposed. */
export function tidyReadAll(fn: () => tf.Tensor[]): Data[] {
  const ts = tf.tidy(fn);
  try {
    return ts.map((t) => t.dataSync() as Data);
  } finally {
    tf.dispose(ts);
  }
}
