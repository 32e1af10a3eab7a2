//! A protocol across several objects as a step machine that does no I/O. The protocol is
//! written as straight-line async code over an [`Asker`]; each `ask` hands its question to
//! whoever drives the [`Conversation`] and waits for the answer. The edge drives it against
//! Durable Objects, tests against a simulation of them: the same code decides in both.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Mailbox<Q, A> {
    question: Option<Q>,
    answer: Option<A>,
}

/// The protocol's side: asks a question and waits for its answer.
pub struct Asker<Q, A> {
    mailbox: Rc<RefCell<Mailbox<Q, A>>>,
}

impl<Q, A> Asker<Q, A> {
    pub async fn ask(&self, question: Q) -> A {
        self.mailbox.borrow_mut().question = Some(question);
        std::future::poll_fn(|_| match self.mailbox.borrow_mut().answer.take() {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        })
        .await
    }
}

/// What the protocol needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<Q, T> {
    /// Ask this, then call [`Conversation::step`] with the answer.
    Ask(Q),
    /// The protocol ended with this.
    Done(T),
}

/// The driver's side of a protocol.
pub struct Conversation<'a, Q, A, T> {
    mailbox: Rc<RefCell<Mailbox<Q, A>>>,
    protocol: Pin<Box<dyn Future<Output = T> + 'a>>,
}

impl<'a, Q: 'a, A: 'a, T: 'a> Conversation<'a, Q, A, T> {
    /// A conversation running `protocol`, which gets the [`Asker`] to ask with.
    pub fn new<F, Fut>(protocol: F) -> Self
    where
        F: FnOnce(Asker<Q, A>) -> Fut,
        Fut: Future<Output = T> + 'a,
    {
        let mailbox = Rc::new(RefCell::new(Mailbox {
            question: None,
            answer: None,
        }));
        let asker = Asker {
            mailbox: Rc::clone(&mailbox),
        };
        Conversation {
            mailbox,
            protocol: Box::pin(protocol(asker)),
        }
    }

    /// Runs the protocol to its next question or its end. `answer`: the answer to the last
    /// question (`None` on the first step).
    ///
    /// # Panics
    /// If the protocol waits on something other than a question (it must do no I/O).
    pub fn step(&mut self, answer: Option<A>) -> Step<Q, T> {
        if answer.is_some() {
            self.mailbox.borrow_mut().answer = answer;
        }
        let mut context = Context::from_waker(Waker::noop());
        match self.protocol.as_mut().poll(&mut context) {
            Poll::Ready(done) => Step::Done(done),
            Poll::Pending => Step::Ask(
                self.mailbox
                    .borrow_mut()
                    .question
                    .take()
                    .expect("a protocol waits only on its questions"),
            ),
        }
    }

    /// Drives the whole conversation with a synchronous `answer` (tests, simulations).
    pub fn run(mut self, mut answer: impl FnMut(Q) -> A) -> T {
        let mut last = None;
        loop {
            match self.step(last.take()) {
                Step::Ask(question) => last = Some(answer(question)),
                Step::Done(done) => return done,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_question_is_answered_in_turn_and_the_protocol_ends_with_its_value() {
        let mut asked = Vec::new();
        let total = Conversation::new(|asker: Asker<u32, u32>| async move {
            let a = asker.ask(1).await;
            let b = asker.ask(a + 1).await;
            a + b
        })
        .run(|q| {
            asked.push(q);
            q * 10
        });
        assert_eq!(asked, [1, 11]);
        assert_eq!(total, 10 + 110);
    }

    #[test]
    fn a_protocol_that_asks_nothing_is_done_at_once() {
        let mut conversation = Conversation::new(|_: Asker<(), ()>| async { 7 });
        assert_eq!(conversation.step(None), Step::Done(7));
    }
}
