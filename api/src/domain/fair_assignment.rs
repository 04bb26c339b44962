//! Fair automatic assignment of a campaign's requests to teams.
//!
//! Each request has the teams that pass its hard rules (category, radius,
//! vetting), each with a match score. The answer gives every request one
//! of its teams so that the work is spread: **no team holds two or more
//! requests more than another team that could take one of them**, even
//! through a chain of moves (A's request to B, B's to C …). Within that,
//! better matches win.
//!
//! Algorithm (the reasons are in `docs/decisions.md`): a greedy pass puts
//! the most constrained requests first, each on its least loaded team
//! (best score among equals); then chains of moves from a heavier team to
//! a lighter one are found by breadth-first search over the teams, until
//! no chain lowers a load by two; last, moves and swaps that keep every
//! load but raise the total score. With a few dozen teams the search is
//! over teams, not requests, so thousands of requests take milliseconds.

use std::collections::VecDeque;

/// One team a request may go to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub team: usize,
    pub score: f64,
}

/// `choices[r]` are request r's teams (indices below `teams`); the answer
/// is each request's team, `None` when it has no candidate.
pub fn assign(teams: usize, choices: &[Vec<Candidate>]) -> Vec<Option<usize>> {
    let mut plan = Plan::new(teams, choices);
    plan.greedy();
    plan.balance();
    plan.improve_scores();
    plan.assigned
}

struct Plan<'a> {
    choices: &'a [Vec<Candidate>],
    assigned: Vec<Option<usize>>,
    load: Vec<usize>,
}

impl<'a> Plan<'a> {
    fn new(teams: usize, choices: &'a [Vec<Candidate>]) -> Self {
        Self {
            choices,
            assigned: vec![None; choices.len()],
            load: vec![0; teams],
        }
    }

    fn score(&self, request: usize, team: usize) -> Option<f64> {
        self.choices[request]
            .iter()
            .find(|c| c.team == team)
            .map(|c| c.score)
    }

    fn put(&mut self, request: usize, team: usize) {
        if let Some(old) = self.assigned[request] {
            self.load[old] -= 1;
        }
        self.assigned[request] = Some(team);
        self.load[team] += 1;
    }

    /// Fewest choices first, so that requests only one team can take are
    /// not crowded out; ties by their best score, best first.
    fn greedy(&mut self) {
        let mut order: Vec<usize> = (0..self.choices.len())
            .filter(|&r| !self.choices[r].is_empty())
            .collect();
        let best = |r: usize| {
            self.choices[r]
                .iter()
                .map(|c| c.score)
                .fold(f64::MIN, f64::max)
        };
        order.sort_by(|&a, &b| {
            self.choices[a]
                .len()
                .cmp(&self.choices[b].len())
                .then(best(b).total_cmp(&best(a)))
                .then(a.cmp(&b))
        });
        for r in order {
            let pick = self.choices[r]
                .iter()
                .min_by(|x, y| {
                    self.load[x.team]
                        .cmp(&self.load[y.team])
                        .then(y.score.total_cmp(&x.score))
                        .then(x.team.cmp(&y.team))
                })
                .map(|c| c.team);
            if let Some(team) = pick {
                self.put(r, team);
            }
        }
    }

    /// The request on `from` that would lose least by moving to `to`.
    fn mover(&self, from: usize, to: usize) -> Option<usize> {
        (0..self.choices.len())
            .filter(|&r| self.assigned[r] == Some(from))
            .filter_map(|r| {
                let gain = self.score(r, to)? - self.score(r, from)?;
                Some((r, gain))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(r, _)| r)
    }

    /// Moves along chains from the heaviest teams until no team can pass
    /// work, directly or through others, to a team two or more lighter.
    fn balance(&mut self) {
        let teams = self.load.len();
        loop {
            // edge[a][b]: some request on a could go to b.
            let mut edge = vec![vec![false; teams]; teams];
            for (r, team) in self.assigned.iter().enumerate() {
                if let Some(a) = *team {
                    for c in &self.choices[r] {
                        if c.team != a {
                            edge[a][c.team] = true;
                        }
                    }
                }
            }
            let mut by_load: Vec<usize> = (0..teams).collect();
            by_load.sort_by(|&a, &b| self.load[b].cmp(&self.load[a]).then(a.cmp(&b)));
            let mut moved = false;
            for &start in &by_load {
                if let Some(path) = self.lighter_path(start, &edge) {
                    // Each hop moves one request forward; the loads of the
                    // teams in between do not change.
                    for hop in path.windows(2) {
                        if let Some(r) = self.mover(hop[0], hop[1]) {
                            self.put(r, hop[1]);
                        }
                    }
                    moved = true;
                    break;
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Shortest chain of possible moves from `start` to a team at least
    /// two lighter.
    fn lighter_path(&self, start: usize, edge: &[Vec<bool>]) -> Option<Vec<usize>> {
        let teams = self.load.len();
        let mut previous = vec![usize::MAX; teams];
        previous[start] = start;
        let mut queue = VecDeque::from([start]);
        while let Some(a) = queue.pop_front() {
            if self.load[a] + 2 <= self.load[start] {
                let mut path = vec![a];
                let mut at = a;
                while at != start {
                    at = previous[at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            for b in 0..teams {
                if edge[a][b] && previous[b] == usize::MAX {
                    previous[b] = a;
                    queue.push_back(b);
                }
            }
        }
        None
    }

    /// Whether `team` may take one more without holding two more than a
    /// team one of its requests could go to.
    fn may_grow(&self, team: usize) -> bool {
        let after = self.load[team] + 1;
        self.assigned
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == Some(team))
            .all(|(r, _)| {
                self.choices[r]
                    .iter()
                    .all(|c| c.team == team || after <= self.load[c.team] + 1)
            })
    }

    /// Better matches where the balance allows: a request moves to a
    /// better team one lighter than its own (the loads swap, so the rule
    /// still holds), or two requests swap teams.
    fn improve_scores(&mut self) {
        let n = self.choices.len();
        for _round in 0..4 {
            let mut changed = false;
            for r in 0..n {
                let Some(a) = self.assigned[r] else { continue };
                let here = self.score(r, a).unwrap_or(f64::MIN);
                let better = self.choices[r].iter().find(|c| {
                    c.team != a
                        && c.score > here + 1e-9
                        && self.load[c.team] + 1 == self.load[a]
                        && self.may_grow(c.team)
                });
                if let Some(c) = better.copied() {
                    self.put(r, c.team);
                    changed = true;
                }
            }
            for r1 in 0..n {
                for r2 in (r1 + 1)..n {
                    let (Some(a), Some(b)) = (self.assigned[r1], self.assigned[r2]) else {
                        continue;
                    };
                    if a == b {
                        continue;
                    }
                    let (Some(r1b), Some(r2a)) = (self.score(r1, b), self.score(r2, a)) else {
                        continue;
                    };
                    let now = self.score(r1, a).unwrap_or(0.0) + self.score(r2, b).unwrap_or(0.0);
                    if r1b + r2a > now + 1e-9 {
                        self.put(r1, b);
                        self.put(r2, a);
                        changed = true;
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }
}

/// Whether an answer keeps the rule: no team holds two or more requests
/// more than a team one of its requests could go to. (Tests and the
/// load benchmark use it; the chain form is stronger.)
pub fn is_fair(teams: usize, choices: &[Vec<Candidate>], answer: &[Option<usize>]) -> bool {
    let mut load = vec![0usize; teams];
    for team in answer.iter().flatten() {
        load[*team] += 1;
    }
    answer.iter().enumerate().all(|(r, team)| match team {
        None => choices[r].is_empty(),
        Some(a) => choices[r].iter().all(|c| load[*a] <= load[c.team] + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(team: usize, score: f64) -> Candidate {
        Candidate { team, score }
    }

    fn loads(teams: usize, answer: &[Option<usize>]) -> Vec<usize> {
        let mut load = vec![0; teams];
        for t in answer.iter().flatten() {
            load[*t] += 1;
        }
        load
    }

    #[test]
    fn the_best_team_does_not_take_everything() {
        // Team 0 is the better match for all ten, but team 1 can take them.
        let choices: Vec<_> = (0..10).map(|_| vec![c(0, 0.9), c(1, 0.5)]).collect();
        let answer = assign(2, &choices);
        assert_eq!(loads(2, &answer), [5, 5]);
        assert!(is_fair(2, &choices, &answer));
    }

    #[test]
    fn a_request_only_one_team_may_take_goes_there() {
        // Requests 0..3 only team 0 may take (say, a vetted team for a
        // child's visit); the rest may go anywhere.
        let mut choices: Vec<_> = (0..3).map(|_| vec![c(0, 0.5)]).collect();
        choices.extend((0..5).map(|_| vec![c(0, 0.9), c(1, 0.4), c(2, 0.4)]));
        let answer = assign(3, &choices);
        assert!(answer[..3].iter().all(|team| *team == Some(0)));
        assert!(is_fair(3, &choices, &answer));
        let load = loads(3, &answer);
        assert_eq!(load.iter().sum::<usize>(), 8);
        assert!(load.iter().max().unwrap() - load.iter().min().unwrap() <= 1);
    }

    #[test]
    fn requests_without_a_team_stay_unmatched() {
        let choices = vec![vec![], vec![c(0, 0.3)], vec![]];
        let answer = assign(1, &choices);
        assert_eq!(answer, [None, Some(0), None]);
    }

    #[test]
    fn work_moves_along_a_chain_to_the_lighter_team() {
        // Greedy order could leave team 0 with three; a chain 0 → 1 → 2
        // brings it down, though team 2 can take nothing of team 0's.
        let choices = vec![
            vec![c(0, 0.9)],
            vec![c(0, 0.9)],
            vec![c(0, 0.9), c(1, 0.1)],
            vec![c(1, 0.9), c(2, 0.1)],
        ];
        let answer = assign(3, &choices);
        assert!(is_fair(3, &choices, &answer));
        assert_eq!(loads(3, &answer), [2, 1, 1]);
    }

    #[test]
    fn among_fair_answers_the_better_matches_win() {
        // Two requests, two teams, each request clearly better on its own team.
        let choices = vec![vec![c(0, 0.9), c(1, 0.1)], vec![c(0, 0.2), c(1, 0.8)]];
        let answer = assign(2, &choices);
        assert_eq!(answer, [Some(0), Some(1)]);
    }

    #[test]
    fn many_requests_over_many_teams_are_spread_within_one() {
        // 2,000 requests over 50 teams, each request eligible for a
        // pseudo-random fifth of them.
        let teams = 50;
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let choices: Vec<Vec<Candidate>> = (0..2000)
            .map(|_| {
                let mut teams_of: Vec<usize> = (0..10).map(|_| next() % teams).collect();
                teams_of.sort_unstable();
                teams_of.dedup();
                teams_of
                    .into_iter()
                    .map(|t| c(t, (next() % 100) as f64 / 100.0))
                    .collect()
            })
            .collect();
        let answer = assign(teams, &choices);
        assert!(answer.iter().all(Option::is_some));
        assert!(is_fair(teams, &choices, &answer));
        let load = loads(teams, &answer);
        assert!(
            load.iter().max().unwrap() - load.iter().min().unwrap() <= 1,
            "{load:?}"
        );
    }
}
