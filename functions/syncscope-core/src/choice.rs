//! Enums with one spelling per value, written once: the config, the resource
//! properties, serde and the messages that list what is allowed all use it. The
//! choices of the Teams card's format and of what deleting the stack does live here
//! too (the others stand by the modules they belong to).

/// An enum whose values each have one spelling.
pub trait Choice: Copy + Sized + 'static {
    /// Every value, in the order messages list them.
    const ALL: &'static [Self];

    /// The spelling of a value.
    fn as_str(self) -> &'static str;

    /// What a value means: its doc comment, on one line (the schema's
    /// `enumDescriptions`).
    fn doc(self) -> String;

    /// The value of a spelling (exact: spellings are case-sensitive).
    fn parse(value: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == value)
    }

    /// Every spelling.
    fn spellings() -> Vec<&'static str> {
        Self::ALL.iter().map(|c| c.as_str()).collect()
    }

    /// The spellings for a message: `"a" or "b"`.
    fn allowed() -> String {
        Self::spellings()
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// Declares an enum with [`Choice`], `Display` and serde (de)serialisation through
/// its one spelling per value. The first value is the default.
macro_rules! choice {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $(#[doc = $first_doc:literal])* $first:ident = $first_spelling:literal,
            $( $(#[doc = $value_doc:literal])* $value:ident = $spelling:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum $name {
            $(#[doc = $first_doc])*
            #[default]
            $first,
            $( $(#[doc = $value_doc])* $value, )*
        }

        impl $crate::choice::Choice for $name {
            const ALL: &'static [Self] = &[Self::$first, $(Self::$value),*];

            fn as_str(self) -> &'static str {
                match self {
                    Self::$first => $first_spelling,
                    $( Self::$value => $spelling, )*
                }
            }

            fn doc(self) -> String {
                let lines: &[&str] = match self {
                    Self::$first => &[$($first_doc),*],
                    $( Self::$value => &[$($value_doc),*], )*
                };
                lines.iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ")
            }
        }

        impl $name {
            /// The spelling (see [`Choice`](crate::choice::Choice)).
            pub fn as_str(self) -> &'static str {
                $crate::choice::Choice::as_str(self)
            }

            /// The value of a spelling.
            pub fn parse(value: &str) -> Option<Self> {
                <Self as $crate::choice::Choice>::parse(value)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&value).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{value:?} is not allowed: use {}",
                        <Self as $crate::choice::Choice>::allowed()
                    ))
                })
            }
        }
    };
}

pub(crate) use choice;

choice! {
    /// What deleting the stack does to the sync scope.
    pub enum OnDelete {
        /// Leave the scope as it is (default).
        Retain = "retain",
        /// Remove the filters this stack manages.
        Remove = "remove",
    }
}

choice! {
    /// How the sync scope is changed.
    pub enum Engine {
        /// One identity-sync filter per group and user (default; any AD source).
        SyncFilters = "sync-filters",
        /// One parent group in the sync scope, whose members are changed with AWS
        /// Directory Service Data (AWS Managed Microsoft AD only).
        ParentGroup = "parent-group",
    }
}

choice! {
    /// The format of the Teams message.
    pub enum CardFormat {
        /// A Workflows envelope with an Adaptive Card 1.4 (default).
        AdaptiveCard = "AdaptiveCard",
        /// A legacy Office 365 connector MessageCard.
        MessageCard = "MessageCard",
    }
}
