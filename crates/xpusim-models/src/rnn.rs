//! rnn
